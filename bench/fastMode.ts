/**
 * 7. Fast mode against the 1-request-per-second wall: tenants of 1,000, 10,000 and 50,000 identities with 5%
 * unused, audited end to end in this process (Resource Graph sweep, creation times, candidate checks).
 *
 * The throttled part is run faster than Azure allows (the simulator and the limiter at BENCH_RATE/s) and
 * projected to 1 request per second: each listAssociatedResources request costs one slot of the tenant's
 * limiter (1,050 ms at 1/s with the default margin) whatever else happens, so that part is linear in the
 * number of requests by construction. Everything else (inventory, sweep at Resource Graph's real quota of 15
 * queries per 5 s, creation-time listings, storage) is measured as it is. Projected wall time at 1/s = time
 * until the candidates are enqueued + the longer of (requests x 1.05 s) and what else the run still did.
 */
import { createAuditDeps } from "../src/audit/createAuditDeps.js";
import { startAudit } from "../src/audit/startAudit.js";
import { drainChecks, HOST_QUEUE_SETTINGS, runFinishedProbe } from "../src/cli/scan.js";
import { DEFAULT_MAX_SLOT_WAIT_MS, defaultSafetyMs } from "../src/limiter/tenantRateLimiter.js";
import { ensureAuditStorage } from "../src/store/auditStorage.js";
import { listIdentityResults } from "../src/store/identityResults.js";
import { getRun } from "../src/store/runs.js";
import type { StorageAccount } from "../src/store/storageAccount.js";
import type { FigureRecorder, Measurement } from "./measurement.js";
import { benchPrefix, secondsSince, withAzurite, withSimulator } from "./scopedServices.js";

const SIZES = (process.env.UAMI_BENCH_FAST_SIZES ?? "1000,10000,50000").split(",").map(Number);
const BENCH_RATE = 10;
/** The slot interval at Azure's real limit with the default margin: 1,000 ms + 50 ms. */
const REAL_SLOT_SECONDS = (1000 + defaultSafetyMs(1)) / 1000;

async function oneTenant(identities: number, account: StorageAccount, out: FigureRecorder): Promise<void> {
  await withSimulator({ identities, seed: "fast-bench", rate: BENCH_RATE * 2, unusedShare: 0.05, hiddenUsageShare: 0.01 }, async (sim) => {
    const tenant = sim.tenants[0];
    if (!tenant) throw new Error("the simulator has no tenant");
    const deps = createAuditDeps({
      arm: { armEndpoint: sim.endpoint, armToken: tenant.token, armCaFile: sim.caFile },
      limiter: { ratePerSecond: BENCH_RATE, maxSlotWaitMs: DEFAULT_MAX_SLOT_WAIT_MS },
      storageAccount: account,
      storagePrefix: benchPrefix(`f${identities}`),
      mode: "fast",
    });
    await ensureAuditStorage(deps.storage);
    sim.clearRequestLog();
    const started = performance.now();
    let candidatesEnqueuedAt = Number.NaN;
    deps.log = {
      ...deps.log,
      info: (message: string) => {
        if (!/ enqueued \d+ checks/.test(message)) return;
        candidatesEnqueuedAt = secondsSince(started);
        // Printed at once: at 50,000 identities the rest of the run takes Azurite a long while.
        out.figure("inventory + sweep + candidates enqueued", candidatesEnqueuedAt, "s");
      },
    };
    const run = await startAudit(deps, { tenantId: tenant.tenantId, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli" });
    if (!run.started) throw new Error(`a run is already in progress: ${run.activeRunId}`);
    const enumeratedSeconds = secondsSince(started);
    out.figure("whole enumeration (also recording the identities the sweep decided)", enumeratedSeconds, "s");
    const finished = runFinishedProbe(deps.storage, run.run.runId, undefined, 500);
    await drainChecks(deps, { workers: 8, maxDequeueCount: HOST_QUEUE_SETTINGS.maxDequeueCount, visibilityTimeoutSeconds: 10, done: finished });
    const wall = secondsSince(started);
    const done = await getRun(deps.storage, run.run.runId);

    const log = sim.requestLog().filter((e) => e.tenantId === tenant.tenantId || e.tenantId === undefined);
    const apiCalls = log.filter((e) => e.operation === "listAssociatedResources");
    const checkedIdentities = new Set(apiCalls.map((e) => e.identityId?.toLowerCase()));
    const unreferenced = sim.truth.tenants[0]!.identities.filter((i) => i.associationCount === 0 && i.hiddenUsage.every((k) => k === "signInOnly")).length;
    const reads = log.filter((e) => e.operation !== "listAssociatedResources").length;
    // At 1/s the candidates' checks (one slot each) start once they are enqueued and run beside the rest of
    // the enumeration (recording the identities the sweep decided): the run ends with the later of the two.
    const checksAtRealRate = apiCalls.length * REAL_SLOT_SECONDS;
    const projected = candidatesEnqueuedAt + Math.max(checksAtRealRate, enumeratedSeconds - candidatesEnqueuedAt, wall - candidatesEnqueuedAt - apiCalls.length / BENCH_RATE);
    out.figure("identities", identities, "identities");
    out.figure("run status complete", done?.status === "complete" ? 1 : 0, "yes=1");
    out.figure("listAssociatedResources requests", apiCalls.length, "requests");
    out.figure("identities sent to the API (candidates)", checkedIdentities.size, "identities");
    out.figure("identities with no reference the API could miss", unreferenced, "identities");
    let enqueued = 0;
    // An identity the sweep decided is checked without an API count; every other one went through the queue.
    for await (const row of listIdentityResults(deps.storage, run.run.runId)) if (row.status !== "checked" || row.associationCount !== undefined) enqueued++;
    out.figure("enqueued messages (candidates)", enqueued, "messages");
    out.figure("other ARM requests (Resource Graph, resource list, GET, credentials)", reads, "requests");
    const byOperation = new Map<string, number>();
    for (const e of log) if (e.operation !== "listAssociatedResources") byOperation.set(e.operation, (byOperation.get(e.operation) ?? 0) + 1);
    for (const [operation, count] of [...byOperation].sort()) out.figure(`  of which ${operation}`, count, "requests");
    out.figure(`wall time at ${BENCH_RATE}/s`, wall, "s");
    out.figure("projected wall time at 1 request/s", projected, "s");
    out.figure("naive floor (one request per identity per second)", identities, "s");
    out.figure("projected / naive floor", projected / identities, "ratio");
    if (done?.status !== "complete") out.note(`${identities}: run ended ${done?.status ?? "missing"}`);
  });
}

export const fastMode: Measurement = {
  name: "fastMode",
  title: `Fast mode: 1k, 10k, 50k identities, 5% unused, projected to 1 request/s (run at ${BENCH_RATE}/s)`,
  async run(out: FigureRecorder) {
    await withAzurite(async (_azurite, account) => {
      for (const size of SIZES) await oneTenant(size, account, out.forCase(`${size} identities`));
    });
  },
};
