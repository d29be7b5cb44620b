import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { startAudit } from "../../src/audit/startAudit.js";
import { readAssociations } from "../../src/store/identityResults.js";
import { depsFor, drainUntilFinished, identityRows } from "../helpers/pipeline.js";

const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };

// The simulator allows twice the limiter's rate: these tests are about the pipeline, not pacing, and a
// loaded CI machine delays the in-process simulator's handling enough to make an exact-rate 429 (the
// pacing at the exact limit is tested alone, in test/audit/globalRate.test.ts).
describe("the audit pipeline against the simulator and Azurite", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ identities: 300, seed: 42, rate: 120 });
  });
  afterAll(() => sim?.close());

  it("checks every identity of a 300-identity tenant exactly once, matches the ground truth, and completes once", async () => {
    const { deps, tenant } = await depsFor(sim, { rate: 60 });
    sim.clearRequestLog();
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("run not started");
    expect(started.run.expected).toBe(300);
    const run = await drainUntilFinished(deps, started.run.runId, { timeoutMs: 90_000 });
    expect(run).toMatchObject({ status: "complete", expected: 300, checked: 300, deleted: 0, failed: 0, throttled: 0 });

    const rows = await identityRows(deps, run.runId);
    expect(rows).toHaveLength(300);
    for (const row of rows) {
      const truth = sim.truth.identity(row.id);
      expect(truth, row.id).toBeDefined();
      expect(row.status).toBe("checked");
      expect(row.associationCount, row.id).toBe(truth!.associationCount);
      expect(row.federatedCredentialCount, row.id).toBe(truth!.federatedCredentialCount);
      expect(row.createdAt).toBe(truth!.createdAt);
      expect(row.associations.map((a) => a.id)).toEqual(sim.truth.associationsOf(row.id).slice(0, 10).map((a) => a.id));
    }
    const checks = sim.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.tenantId === tenant.tenantId);
    expect(checks.every((e) => e.status === 200)).toBe(true);
    const perIdentity = new Map<string, number>();
    for (const e of checks) perIdentity.set(e.identityId!.toLowerCase(), (perIdentity.get(e.identityId!.toLowerCase()) ?? 0) + 1);
    expect(perIdentity.size).toBe(300);
    expect([...perIdentity.values()].every((n) => n === 1)).toBe(true);
    const completions = await deps.storage.completedQueue.peekMessages({ numberOfMessages: 32 });
    expect(completions.peekedMessageItems).toHaveLength(1);
  }, 120_000);

  it("with `all` associations stored, pages each identity to the end through the limiter, one request per page", async () => {
    const small = await startSimulator({ identities: 12, seed: 7, rate: 200 });
    try {
      const { deps, tenant } = await depsFor(small, { rate: 100, associationsToStore: Number.MAX_SAFE_INTEGER });
      const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "cli" });
      if (!started.started) throw new Error("run not started");
      const run = await drainUntilFinished(deps, started.run.runId, { timeoutMs: 90_000 });
      expect(run.status).toBe("complete");
      const biggest = [...small.truth.tenants[0]!.identities].sort((a, b) => b.associationCount - a.associationCount)[0]!;
      expect(biggest.associationCount).toBeGreaterThan(250);
      const stored = await readAssociations(deps.storage, run.runId, biggest.id);
      expect(stored.map((a) => a.id)).toEqual(small.truth.associationsOf(biggest.id).map((a) => a.id));
      const pages = small.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.identityId?.toLowerCase() === biggest.id.toLowerCase());
      expect(pages).toHaveLength(Math.ceil(biggest.associationCount / 100));
      expect(pages.every((p) => p.status === 200)).toBe(true);
    } finally {
      await small.close();
    }
  }, 120_000);
});
