/**
 * The real `uami-audit` binary as a child process (src/cli/main.ts through tsx), with its output collected:
 * standard output split into lines (and parsed, for `--json`), standard error as text.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** Environment variables through which @azure/identity could find a credential: removed so tests never use one. */
const CREDENTIAL_VARIABLES = /^(AZURE_|IDENTITY_|MSI_|IMDS_|UAMI_ARM_TOKEN$|UAMI_AUDIT_TENANT_ID$|UAMI_ARM_ENDPOINT$|UAMI_ARM_CA_FILE$)/;

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !CREDENTIAL_VARIABLES.test(key)) env[key] = value;
  return { ...env, ...extra };
}

export interface CliProcess {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<CliResult>;
  stdoutLines(): string[];
  stderr(): string;
  /** Resolves with the first stdout line matching `test` (or rejects when the process exits first). */
  waitForLine(test: (line: string) => boolean): Promise<string>;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string[];
  stderr: string;
  /** Milliseconds from spawn to exit. */
  ms: number;
}

export function startCli(args: string[], options: { env?: Record<string, string>; stdin?: string; cwd?: string; cli?: string } = {}): CliProcess {
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", options.cli ?? CLI, ...args], {
    env: options.env ?? cleanEnv(),
    stdio: ["pipe", "pipe", "pipe"],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  child.stdin!.on("error", () => undefined);
  child.stdin!.end(options.stdin ?? "");
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  child.stdout!.on("data", (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<CliResult>((resolve) => {
    child.once("exit", (code, signal) => {
      // Let the pipes drain before reporting.
      setImmediate(() => {
        if (partial) lines.push(partial);
        for (const waiter of waiters.splice(0)) waiter.reject(new Error(`the CLI exited (${code ?? signal}) before the line came; stderr: ${stderr}`));
        resolve({ code, signal, stdout: lines, stderr, ms: Date.now() - started });
      });
    });
  });
  return {
    child,
    exited,
    stdoutLines: () => [...lines],
    stderr: () => stderr,
    waitForLine: (test) =>
      new Promise((resolve, reject) => {
        const found = lines.find(test);
        if (found !== undefined) return resolve(found);
        waiters.push({ test, resolve, reject });
      }),
  };
}

export function runCli(args: string[], options: Parameters<typeof startCli>[1] = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

export type JsonLine = { type: string } & Record<string, unknown>;

/** Every stdout line parsed as JSON (a line that is not JSON fails the test that reads it). */
export function jsonLines(result: { stdout: string[] }): JsonLine[] {
  return result.stdout.filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as JsonLine);
}

/** Process ids whose parent is `pid` (from /proc), and their command lines. */
export async function childrenOf(pid: number): Promise<{ pid: number; commandLine: string }[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: { pid: number; commandLine: string }[] = [];
  for (const candidate of pids) {
    try {
      const stat = await readFile(`/proc/${candidate}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) !== pid || state === "Z") continue;
      found.push({ pid: candidate, commandLine: (await readFile(`/proc/${candidate}/cmdline`, "utf8")).replace(/\0/g, " ") });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** True while the process exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
