import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import type { AuditDeps } from "../../src/audit/deps.js";
import { startAudit } from "../../src/audit/startAudit.js";
import { listRuns } from "../../src/store/runs.js";
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
    // Exhaustive: every identity through listAssociatedResources, each compared with the ground truth.
    const { deps, tenant } = await depsFor(sim, { rate: 60, mode: "exhaustive" });
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
      // Real Azure sends no systemData (nor does the simulator by default): the age comes from ARM's resource list.
      expect(row.createdAt).toBeUndefined();
      expect(Date.parse(row.createdTime!)).toBe(Date.parse(truth!.createdAt));
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
      const { deps, tenant } = await depsFor(small, { rate: 100, associationsToStore: Number.MAX_SAFE_INTEGER, mode: "exhaustive" });
      const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "cli" });
      if (!started.started) throw new Error("run not started");
      const run = await drainUntilFinished(deps, started.run.runId, { timeoutMs: 90_000 });
      expect(run.status).toBe("complete");
      const biggest = [...small.truth.tenants[0]!.identities].sort((a, b) => b.associationCount - a.associationCount)[0]!;
      expect(biggest.associationCount).toBeGreaterThan(250);
      const stored = await readAssociations(deps.storage, run.runId, biggest.id);
      expect(stored.map((a) => a.id)).toEqual(small.truth.associationsOf(biggest.id).map((a) => a.id));
      const pages = small.requestLog().filter((e) => e.operation === "listAssociatedResources" && e.identityId?.toLowerCase() === biggest.id.toLowerCase());
      expect(pages.map((p) => `${p.status} ${decodeURIComponent(p.path).replace(/^.*\?/, "")}`), "the page requests").toHaveLength(Math.ceil(biggest.associationCount / 100));
      expect(pages.every((p) => p.status === 200)).toBe(true);
    } finally {
      await small.close();
    }
  }, 120_000);
});

describe("an enumeration that fails half-way", () => {
  it("fails the run with the reason, releases the tenant's lock, and a new run can start", async () => {
    const sim = await startSimulator({ identities: 1100, seed: 11, rate: 100 });
    try {
      const { deps, tenant } = await depsFor(sim, { rate: 50 });
      // The second Resource Graph page is sent with a token the simulator rejects (a real 401 from it):
      // as when a token is revoked mid-run. Every other request goes through untouched.
      let graphRequests = 0;
      const httpClient = {
        sendRequest: (request: Parameters<AuditDeps["arm"]["httpClient"]["sendRequest"]>[0]) => {
          if (request.url.includes("Microsoft.ResourceGraph") && ++graphRequests === 2) request.headers.set("authorization", "Bearer not-a-token");
          return deps.arm.httpClient.sendRequest(request);
        },
      };
      const failing: AuditDeps = { ...deps, arm: { ...deps.arm, httpClient } };
      const attempt = startAudit(failing, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
      await expect(attempt).rejects.toThrow(/Enumerating identities failed after 1000 identities: .*401/s);
      expect(graphRequests).toBe(2);

      const runs = [];
      for await (const run of listRuns(deps.storage, tenant.tenantId)) runs.push(run);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ status: "failed" });
      expect(JSON.stringify(runs[0])).toMatch(/Enumerating identities failed after 1000 identities/);

      const again = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
      expect(again.started).toBe(true);
      if (again.started) expect(again.run.expected).toBe(1100);
    } finally {
      await sim.close();
    }
  }, 120_000);
});
