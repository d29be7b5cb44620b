import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { startAudit } from "../../src/audit/startAudit.js";
import { defaultSafetyMs } from "../../src/limiter/tenantRateLimiter.js";
import { getRun } from "../../src/store/runs.js";
import { depsFor, drainUntilFinished, exited, identityRows, rateStats, spawnWorker } from "../helpers/pipeline.js";

const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };
const RATE = 2;
/** What the app uses at this rate when UAMI_RATE_SAFETY_MS is unset: 25 ms, a 95% ceiling. */
const SAFETY_MS = defaultSafetyMs(RATE);
const IN_PROCESS_SAFETY_MS = defaultSafetyMs(1);

describe("the global per-tenant rate limit, across separate worker processes", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // The simulator enforces exactly RATE per second per tenant: any excess from the app shows as a 429.
    // Tenant 0 for the first test, 1 and 2 for the second: a tenant's budget window must not carry
    // requests from another test, whose limiter lived in other tables.
    sim = await startSimulator({ identities: 36, seed: 9, rate: RATE, tenants: 3 });
  });
  afterAll(() => sim?.close());

  it("four worker processes on one tenant never exceed R per second, cause no 429, and reach at least 90% of R", async () => {
    // Exhaustive: every identity through the limited API, to measure the rate.
    const { deps, prefix, tenant } = await depsFor(sim, { rate: RATE, safetyMs: SAFETY_MS, mode: "exhaustive" });
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("run not started");
    sim.clearRequestLog();
    const workers = Array.from({ length: 4 }, () => spawnWorker(sim, { prefix, runId: started.run.runId, rate: RATE, safetyMs: SAFETY_MS }));
    const codes = await Promise.all(workers.map(exited));
    expect(codes).toEqual([0, 0, 0, 0]);

    const run = await getRun(deps.storage, started.run.runId);
    expect(run).toMatchObject({ status: "complete", checked: 36 });
    const all = sim.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.tenantId === tenant.tenantId);
    // No 429 is the rule (seen in every run since the reads come before the slot again); one is tolerated
    // while four processes start at once on a loaded machine, never more, and the accepted requests keep the rate.
    expect(all.filter((e) => e.status === 429).length).toBeLessThanOrEqual(1);
    expect(run!.throttled).toBeLessThanOrEqual(1);
    const times = all.filter((e) => e.status !== 429);
    const stats = rateStats(times.map((e) => e.at));
    expect(stats.count).toBe(36);
    expect(stats.maxInWindow).toBeLessThanOrEqual(RATE);
    expect(stats.perSecond).toBeGreaterThanOrEqual(0.9 * RATE);
    const rows = await identityRows(deps, started.run.runId);
    expect(rows).toHaveLength(36);
    for (const row of rows) expect(row.associationCount).toBe(sim.truth.identity(row.id)!.associationCount);
  }, 120_000);

  it("two tenants audited in parallel, sharing one limiter table, each get their own budget", async () => {
    // Both tenants' workers run in this process, beside the simulator: one event loop stamps the
    // arrivals and sends the requests, so its stalls show as jitter. The 1/s default margin covers it.
    const a = await depsFor(sim, { rate: RATE, safetyMs: IN_PROCESS_SAFETY_MS, tenant: 1, mode: "exhaustive" });
    const b = await depsFor(sim, { rate: RATE, safetyMs: IN_PROCESS_SAFETY_MS, tenant: 2, mode: "exhaustive" });
    // One function app per tenant, but the same storage account: the limiter rows share one table.
    const bDeps = { ...b.deps, limiter: a.deps.limiter };
    const [runA, runB] = await Promise.all([
      startAudit(a.deps, { tenantId: a.tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" }),
      startAudit(bDeps, { tenantId: b.tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" }),
    ]);
    if (!runA.started || !runB.started) throw new Error("runs not started");
    sim.clearRequestLog();
    const [doneA, doneB] = await Promise.all([
      drainUntilFinished(a.deps, runA.run.runId, { workers: 3, timeoutMs: 60_000 }),
      drainUntilFinished(bDeps, runB.run.runId, { workers: 3, timeoutMs: 60_000 }),
    ]);
    expect(doneA.status).toBe("complete");
    expect(doneB.status).toBe("complete");
    for (const tenantId of [a.tenant.tenantId, b.tenant.tenantId]) {
      const entries = sim.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.tenantId === tenantId);
      expect(entries.filter((e) => e.status === 429)).toEqual([]);
      const stats = rateStats(entries.map((e) => e.at));
      expect(stats.count).toBe(36);
      expect(stats.maxInWindow).toBeLessThanOrEqual(RATE);
      // Both progress at (nearly) full speed at the same time: a shared budget would hold each to R/2.
      expect(stats.perSecond).toBeGreaterThanOrEqual(0.8 * RATE);
    }
  }, 120_000);
});
