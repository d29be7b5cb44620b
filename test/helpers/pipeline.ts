import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RunningSimulator } from "../../simulator/index.js";
import { createAuditDeps } from "../../src/audit/createAuditDeps.js";
import type { AuditDeps } from "../../src/audit/deps.js";
import type { AuditMode, AuditRun } from "../../src/model/run.js";
import type { IdentityResult } from "../../src/model/identityResult.js";
import { drainChecks, runFinishedProbe } from "../../src/cli/scan.js";
import { ensureAuditStorage } from "../../src/store/auditStorage.js";
import { listIdentityResults } from "../../src/store/identityResults.js";
import { getRun } from "../../src/store/runs.js";
import { testStorageAccount, uniquePrefix } from "./storage.js";

export async function depsFor(sim: RunningSimulator, options: { rate: number; safetyMs?: number; prefix?: string; tenant?: number; associationsToStore?: number; maxDequeueCount?: number; mode?: AuditMode }) {
  const tenant = sim.tenants[options.tenant ?? 0]!;
  const prefix = options.prefix ?? uniquePrefix();
  const deps = createAuditDeps({
    arm: { armEndpoint: sim.endpoint, armToken: tenant.token, armCaFile: sim.caFile },
    limiter: { ratePerSecond: options.rate, rateSafetyMs: options.safetyMs ?? 0, maxSlotWaitMs: 20_000 },
    storageAccount: testStorageAccount(),
    storagePrefix: prefix,
    associationsToStore: options.associationsToStore,
    maxDequeueCount: options.maxDequeueCount,
    ...(options.mode ? { mode: options.mode } : {}),
  });
  await ensureAuditStorage(deps.storage);
  return { deps, prefix, tenant };
}

/** Drains in this process with a bounded deadline, so a broken pipeline fails the test instead of hanging it. */
export async function drainUntilFinished(deps: AuditDeps, runId: string, options: { workers?: number; visibilityTimeoutSeconds?: number; maxDequeueCount?: number; timeoutMs?: number } = {}) {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const finished = runFinishedProbe(deps.storage, runId, undefined, 200);
  await drainChecks(deps, {
    workers: options.workers ?? 4,
    maxDequeueCount: options.maxDequeueCount ?? 5,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1,
    done: async () => {
      if (Date.now() > deadline) throw new Error(`Run ${runId} did not finish in time`);
      return finished();
    },
  });
  return (await getRun(deps.storage, runId)) as AuditRun;
}

export async function identityRows(deps: AuditDeps, runId: string): Promise<IdentityResult[]> {
  const rows: IdentityResult[] = [];
  for await (const row of listIdentityResults(deps.storage, runId)) rows.push(row);
  return rows;
}

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

/** A `uami-audit worker` in its own process, as another Functions instance would be. */
export function spawnWorker(sim: RunningSimulator, args: { prefix: string; runId: string; rate: number; safetyMs: number; tenant?: number; leaseSeconds?: number; workers?: number }): ChildProcess {
  const tenant = sim.tenants[args.tenant ?? 0]!;
  const child = spawn(
    process.execPath,
    [
      "--import", "tsx", CLI, "worker",
      "--storage", process.env.UAMI_TEST_STORAGE!,
      "--prefix", args.prefix,
      "--run", args.runId,
      "--arm-endpoint", sim.endpoint,
      "--ca-file", sim.caFile,
      "--rate", String(args.rate),
      "--rate-safety-ms", String(args.safetyMs),
      "--lease-seconds", String(args.leaseSeconds ?? 30),
      "--workers", String(args.workers ?? 2),
    ],
    { env: { ...process.env, UAMI_ARM_TOKEN: tenant.token }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  (child as ChildProcess & { stderrText: () => string }).stderrText = () => stderr;
  return child;
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
  });
}

/** The most requests seen in any one-second window (sliding), and the throughput between first and last. */
export function rateStats(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  let maxInWindow = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= 1000) start++;
    maxInWindow = Math.max(maxInWindow, end - start + 1);
  }
  const span = sorted.length > 1 ? (sorted[sorted.length - 1]! - sorted[0]!) / 1000 : 0;
  return { count: sorted.length, maxInWindow, perSecond: span > 0 ? (sorted.length - 1) / span : 0 };
}
