/**
 * 4. listAssociatedResources requests per second achieved against the tenant limit with 1, 2 and 4
 * worker processes. The simulator enforces R = 2/s per tenant (any excess shows as a 429); a run is
 * started in this process, then N `uami-audit worker` processes (each another Functions instance,
 * spawned as test/helpers/pipeline.ts does) drain it through the shared Table Storage limiter.
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RunningSimulator } from "../simulator/index.js";
import { createAuditDeps } from "../src/audit/createAuditDeps.js";
import { startAudit } from "../src/audit/startAudit.js";
import { DEFAULT_MAX_SLOT_WAIT_MS, defaultSafetyMs } from "../src/limiter/tenantRateLimiter.js";
import { ensureAuditStorage } from "../src/store/auditStorage.js";
import { getRun } from "../src/store/runs.js";
import type { StorageAccount } from "../src/store/storageAccount.js";
import { exitOf, spawnTsx, tailOf } from "./childScript.js";
import type { FigureRecorder, Measurement } from "./measurement.js";
import { requestRate } from "./requestRate.js";
import { benchPrefix, secondsSince, withAzurite, withSimulator } from "./scopedServices.js";

const RATE = 2;
/** The app's default margin at this rate (UAMI_RATE_SAFETY_MS unset): 25 ms at 2/s. */
const SAFETY_MS = defaultSafetyMs(RATE);
/** About 12 s of requests at 2/s: one listAssociatedResources page per identity (10 associations stored). */
const IDENTITIES = 24;
const WORKER_COUNTS = [1, 2, 4];
const CONCURRENCY_PER_WORKER = 2;
const CLI = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

function spawnWorker(sim: RunningSimulator, connectionString: string, prefix: string, runId: string): ChildProcess {
  const tenant = sim.tenants[0];
  if (!tenant) throw new Error("the simulator has no tenant");
  return spawnTsx(
    CLI,
    [
      "worker",
      "--storage", connectionString,
      "--prefix", prefix,
      "--run", runId,
      "--arm-endpoint", sim.endpoint,
      "--ca-file", sim.caFile,
      "--rate", String(RATE),
      "--rate-safety-ms", String(SAFETY_MS),
      "--workers", String(CONCURRENCY_PER_WORKER),
    ],
    // The token goes through the environment, as in production, never on a command line.
    { env: { UAMI_ARM_TOKEN: tenant.token }, stdout: "ignore" },
  );
}

async function oneCase(workers: number, connectionString: string, account: StorageAccount, out: FigureRecorder): Promise<void> {
  await withSimulator({ identities: IDENTITIES, seed: "bench", rate: RATE }, async (sim) => {
    const tenant = sim.tenants[0];
    if (!tenant) throw new Error("the simulator has no tenant");
    const prefix = benchPrefix(`w${workers}`);
    const deps = createAuditDeps({
      arm: { armEndpoint: sim.endpoint, armToken: tenant.token, armCaFile: sim.caFile },
      limiter: { ratePerSecond: RATE, rateSafetyMs: SAFETY_MS, maxSlotWaitMs: DEFAULT_MAX_SLOT_WAIT_MS },
      storageAccount: account,
      storagePrefix: prefix,
    });
    await ensureAuditStorage(deps.storage);
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli" });
    if (!started.started) throw new Error(`a run is already in progress: ${started.activeRunId}`);
    sim.clearRequestLog();

    const spawnedAt = performance.now();
    const spawnedAtEpoch = Date.now();
    const children = Array.from({ length: workers }, () => spawnWorker(sim, connectionString, prefix, started.run.runId));
    const stderrs = children.map((c) => tailOf(c.stderr));
    let codes: (number | null)[];
    try {
      codes = await Promise.all(children.map((c, i) => exitOf(c, 120_000, `worker ${i + 1} of ${workers}`)));
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    const wallSeconds = secondsSince(spawnedAt);

    const run = await getRun(deps.storage, started.run.runId);
    const lists = sim.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.tenantId === tenant.tenantId);
    const accepted = lists.filter((e) => e.status !== 429);
    const rate = requestRate(lists.map((e) => e.at));
    const first = lists[0]?.at;
    out.figure("identities checked", run?.checked ?? 0, "identities");
    out.figure("listAssociatedResources requests", lists.length, "requests");
    out.figure("achieved rate (first to last request)", rate.perSecond, "requests/s");
    out.figure("share of the limit", (100 * rate.perSecond) / RATE, "%");
    out.figure("most requests in any 1 s window", rate.maxInAnySecond, "requests");
    out.figure("429 answers", lists.length - accepted.length, "responses");
    out.figure("first request after spawning", first === undefined ? Number.NaN : (first - spawnedAtEpoch) / 1000, "s");
    out.figure("wall time, spawn to last exit", wallSeconds, "s");
    out.note(
      `achieved ${rate.perSecond.toFixed(2)}/s of limit ${RATE}/s (${((100 * rate.perSecond) / RATE).toFixed(0)}%); ` +
        `the limiter's own ceiling is 1000/(1000/${RATE}+${SAFETY_MS}) = ${(1000 / (1000 / RATE + SAFETY_MS)).toFixed(2)}/s`,
    );
    if (run?.status !== "complete") out.note(`run ended ${run?.status ?? "missing"}, not complete`);
    codes.forEach((code, i) => {
      if (code !== 0) out.note(`worker ${i + 1} exited with ${String(code)}: ${stderrs[i]?.().trim() ?? ""}`);
    });
  });
}

export const workerThroughput: Measurement = {
  name: "workerThroughput",
  title: `Requests per second vs the limit (${RATE}/s) with ${WORKER_COUNTS.join(", ")} worker processes`,
  async run(out: FigureRecorder) {
    await withAzurite(async (azurite, account) => {
      for (const workers of WORKER_COUNTS) await oneCase(workers, azurite.connectionString, account, out.forCase(`${workers} worker${workers === 1 ? "" : "s"}`));
    });
  },
};
