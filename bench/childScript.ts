/**
 * Runs a bench script in its own Node process (`process.execPath --import tsx <script>`, so Node 22 and
 * tsx are used whatever is on PATH) and reads the JSON it prints as its last stdout line. A process of
 * its own is what makes a memory figure mean something: nothing else of the benchmark lives in it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Starts `node --import tsx <script> ...args` from the project root. */
export function spawnTsx(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdout?: "pipe" | "ignore" } = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", options.stdout ?? "pipe", "pipe"],
  });
}

/** Resolves with the exit code; kills the child (SIGKILL) and rejects if it outlives `timeoutMs`. */
export function exitOf(child: ChildProcess, timeoutMs: number, what: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not finish within ${Math.round(timeoutMs / 1000)} s and was killed`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Keeps the last `limit` characters a stream wrote, for error messages. */
export function tailOf(stream: NodeJS.ReadableStream | null, limit = 4000): () => string {
  let text = "";
  stream?.on("data", (chunk: Buffer) => (text = (text + chunk.toString()).slice(-limit)));
  return () => text;
}

/** Runs a script to its end and parses the JSON object on its last stdout line. */
export async function runChildScript<T>(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<T> {
  const child = spawnTsx(script, args, { env: options.env });
  const stdout = tailOf(child.stdout, 64_000);
  const stderr = tailOf(child.stderr);
  let code: number | null;
  try {
    code = await exitOf(child, options.timeoutMs, script);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  if (code !== 0) throw new Error(`${script} exited with code ${String(code)}${stderr() ? `: ${stderr().trim()}` : ""}`);
  const lastLine = stdout().trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(lastLine) as T;
  } catch {
    throw new Error(`${script} did not print a JSON result as its last line, got: ${lastLine.slice(0, 200)}`);
  }
}
