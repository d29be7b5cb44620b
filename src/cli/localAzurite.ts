/**
 * The CLI's own storage when no --storage is given (`scan`, `demo`), and the tests' and benchmarks': an
 * in-memory Azurite started as child processes that end with this process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { connectionStringFor } from "../store/storageAccount.js";

export interface LocalAzurite {
  /** A storage connection string for the in-memory account. */
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  /** Process ids of the three services (benchmarks read their CPU time). */
  pids: { blob?: number; queue?: number; table?: number };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function waitForPort(port: number, deadline: number, child: ChildProcess): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Azurite exited early with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Azurite did not listen on 127.0.0.1:${port} in time`);
}

type Service = "blob" | "queue" | "table";

function azuriteEntryPoint(service: Service): string {
  // Azurite is a devDependency: a deployed function app never starts it.
  const require = createRequire(import.meta.url);
  try {
    const pkg = require.resolve("azurite/package.json");
    return path.join(path.dirname(pkg), "dist", "src", service, "main.js");
  } catch {
    throw new Error(
      "Azurite is not installed. Run `npm ci` in the uami-audit folder, or pass --storage with a real storage account.",
    );
  }
}

/**
 * Preloaded into each Azurite process: its standard input is a pipe from this process, and when that
 * pipe closes (this process exited, however: even SIGKILL, which no handler sees) Azurite exits too,
 * rather than hold ~150 MB each as an orphan.
 */
const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
  "const bye = () => process.exit(0); process.stdin.on('end', bye); process.stdin.on('error', bye); process.stdin.resume();",
)}`;

/** Signals that end a CLI by default: Azurite is stopped first, then the signal takes its course. */
const ENDING_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Starts an in-memory Azurite on free loopback ports, one process per service: each Azurite service is a
 * single-threaded Node process, and the audit's enumeration keeps the queue and table services busy at
 * the same time. Telemetry is disabled: this machine has no internet and Azurite would otherwise try to
 * send it.
 */
export async function startLocalAzurite(): Promise<LocalAzurite> {
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  const children = (["blob", "queue", "table"] as const).map((service) => {
    const child = spawn(
      process.execPath,
      [
        "--import", EXIT_WITH_PARENT,
        azuriteEntryPoint(service),
        "--inMemoryPersistence",
        "--disableTelemetry",
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        `--${service}Host`, "127.0.0.1",
        `--${service}Port`, String(ports[service]),
      ],
      { stdio: ["pipe", "ignore", "pipe"] },
    );
    const state = { service, child, stderr: "" };
    child.stdin?.on("error", () => undefined); // the watchdog pipe: never written, only held open
    child.stderr?.on("data", (chunk: Buffer) => (state.stderr = (state.stderr + chunk.toString()).slice(-4000)));
    return state;
  });
  // On a signal, Azurite goes at once (in memory: nothing to flush), then the signal is raised again
  // so the process ends as it would have, unless someone else also listens for it.
  const onSignal = (signal: NodeJS.Signals) => {
    for (const { child } of children) child.kill("SIGKILL");
    forgetSignals();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const forgetSignals = () => {
    for (const signal of ENDING_SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of ENDING_SIGNALS) process.on(signal, onSignal);
  const stopAll = () =>
    Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 3000).unref();
          }),
      ),
    ).then(() => forgetSignals());
  const deadline = Date.now() + 30_000;
  try {
    for (const { service, child } of children) await waitForPort(ports[service], deadline, child);
  } catch (error) {
    for (const { child } of children) child.kill("SIGKILL");
    forgetSignals();
    const said = children.filter((c) => c.stderr).map((c) => `${c.service}: ${c.stderr}`).join("\n");
    throw new Error(`${(error as Error).message}${said ? `\nAzurite said: ${said}` : ""}`, { cause: error });
  }
  const pids = Object.fromEntries(children.map(({ service, child }) => [service, child.pid]));
  return { connectionString: connectionStringFor(ports), ports, pids, stop: stopAll };
}
