/**
 * Fast mode against exhaustive mode on the simulator's ground truth: identical verdicts for every identity,
 * and in fast mode every listAssociatedResources request is a candidate's (plus the run's probe).
 */
import { describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import type { AuditMode } from "../../src/model/run.js";
import { buildRunReport } from "../../src/audit/runReport.js";
import { createAuditRun, enumerateRun, finishInterruptedEnumeration, startAudit } from "../../src/audit/startAudit.js";
import { getRun } from "../../src/store/runs.js";
import { allFindings } from "../../src/report/model.js";
import { depsFor, drainUntilFinished } from "../helpers/pipeline.js";

async function audit(sim: RunningSimulator, mode: AuditMode) {
  const { deps, tenant } = await depsFor(sim, { rate: 400 });
  deps.settings = { ...deps.settings, mode };
  deps.signIns = { workspaceId: tenant.workspaceId, windowDays: 30, endpoint: sim.endpoint, credential: deps.arm.credential, caFile: sim.caFile };
  sim.clearRequestLog();
  const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli" });
  if (!started.started) throw new Error("no run started");
  const run = await drainUntilFinished(deps, started.run.runId, { timeoutMs: 120_000 });
  const report = await buildRunReport(deps, run.runId, { gracePeriodDays: 7, exemptTag: "uami-audit-exempt" });
  const apiCalls = sim.requestLog().filter((r) => r.operation === "listAssociatedResources" && r.tenantId === tenant.tenantId);
  return { run, report, apiCalls };
}

describe("fast mode gives the verdicts of exhaustive mode", () => {
  it.each([
    { seed: 51, identities: 40 },
    { seed: 52, identities: 90 },
    { seed: 53, identities: 30 },
  ])("seed $seed, $identities identities: same verdict for every identity, API requests only for candidates", async ({ seed, identities }) => {
    const sim = await startSimulator({ identities, seed, rate: 1000, hiddenUsageShare: 0.15, subscriptionsPerTenant: 3 });
    try {
      const fast = await audit(sim, "fast");
      const exhaustive = await audit(sim, "exhaustive");
      expect(fast.run.mode).toBe("fast");
      expect(exhaustive.run.mode).toBe("exhaustive");
      const fastVerdicts = new Map(allFindings(fast.report).map((f) => [f.key, f.verdict]));
      const exhaustiveVerdicts = new Map(allFindings(exhaustive.report).map((f) => [f.key, f.verdict]));
      expect(fastVerdicts.size).toBe(identities);
      expect([...fastVerdicts.entries()].sort()).toEqual([...exhaustiveVerdicts.entries()].sort());
      for (const finding of allFindings(fast.report)) {
        if (sim.truth.isUsed(finding.id)) expect(finding.verdict).not.toBe("unused");
      }

      // Fast: exactly one request per candidate (an identity no resource refers to in Resource Graph), none other.
      const candidates = allFindings(fast.report).filter((f) => f.evidence.resourceGraph.referenceCount === 0);
      expect(fast.apiCalls.map((r) => r.identityId!.toLowerCase()).sort()).toEqual(candidates.map((f) => f.key).sort());
      expect(fast.run.apiRequests).toBe(fast.apiCalls.length);
      expect(fast.apiCalls.length).toBeLessThan(exhaustive.apiCalls.length);
      expect(exhaustive.run.apiRequests).toBe(exhaustive.apiCalls.length);
      // Identities decided by the sweep carry their references as associations, marked as such.
      const referenced = allFindings(fast.report).find((f) => f.verdict === "in-use" && f.evidence.associationsApi.status === "not-checked");
      expect(referenced?.evidence.resourceGraph.referenceCount).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
  }, 180_000);

  it("falls back to exhaustive mode, and says why, when the sweep is refused", async () => {
    const sim = await startSimulator({ identities: 20, seed: 54, rate: 1000 });
    try {
      const { deps, tenant } = await depsFor(sim, { rate: 400 });
      // Resource Graph answers the inventory but refuses the sweep's queries (as a missing table or access would).
      const httpClient = {
        sendRequest: async (request: Parameters<typeof deps.arm.httpClient.sendRequest>[0]) => {
          const body = typeof request.body === "string" ? request.body : "";
          if (request.url.includes("Microsoft.ResourceGraph") && /bag_keys|extract_all/.test(body)) request.headers.set("authorization", "Bearer refused");
          return deps.arm.httpClient.sendRequest(request);
        },
      };
      const refused = { ...deps, arm: { ...deps.arm, httpClient } };
      const started = await startAudit(refused, { tenantId: tenant.tenantId, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli" });
      if (!started.started) throw new Error("no run started");
      const run = await drainUntilFinished(deps, started.run.runId, { timeoutMs: 120_000 });
      expect(run.status).toBe("complete");
      expect(run.mode).toBe("exhaustive");
      expect(run.modeReason).toMatch(/Resource Graph reference sweep/);
      expect(run.sources?.resourceGraph.status).toBe("failed");
      expect(run.checked).toBe(20);
    } finally {
      await sim.close();
    }
  }, 120_000);
  it("a run stopped after sending the candidates' checks, before storing the referenced identities, is finished without asking the API about them", async () => {
    const sim = await startSimulator({ identities: 40, seed: 55, rate: 1000, hiddenUsageShare: 0.15 });
    try {
      const { deps, tenant } = await depsFor(sim, { rate: 400 });
      deps.signIns = { workspaceId: tenant.workspaceId, windowDays: 30, endpoint: sim.endpoint, credential: deps.arm.credential, caFile: sim.caFile };
      // The process "dies" at its first write of a referenced identity's evidence: that write never returns.
      const audits = deps.storage.audits;
      let died: () => void = () => undefined;
      const death = new Promise<void>((resolve) => (died = resolve));
      const dying = Object.create(audits) as typeof audits;
      dying.submitTransaction = (actions) => {
        const storesReferences = actions.some(([kind, entity]) => kind === "update" && Number((entity as { referenceCount?: unknown }).referenceCount) > 0);
        if (!storesReferences) return audits.submitTransaction(actions);
        died();
        return new Promise(() => undefined);
      };
      const created = await createAuditRun(deps, { tenantId: tenant.tenantId, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli" });
      if (!created.started) throw new Error("no run started");
      sim.clearRequestLog();
      void enumerateRun({ ...deps, storage: { ...deps.storage, audits: dying } }, created.run);
      await death;

      const stopped = (await getRun(deps.storage, created.run.runId))!;
      expect([stopped.status, stopped.phase, stopped.mode]).toEqual(["enumerating", "checks", "fast"]);
      await finishInterruptedEnumeration(deps, stopped);
      const run = await drainUntilFinished(deps, created.run.runId, { timeoutMs: 60_000 });
      expect(run.status).toBe("complete");
      expect(run.checked).toBe(40);
      const report = await buildRunReport(deps, run.runId, { gracePeriodDays: 7, exemptTag: "uami-audit-exempt" });
      for (const finding of allFindings(report)) if (sim.truth.isUsed(finding.id)) expect(finding.verdict).not.toBe("unused");
      // The API was asked only about the candidates, whose messages had been sent before the stop.
      const candidates = allFindings(report).filter((f) => f.evidence.resourceGraph.referenceCount === 0).map((f) => f.key);
      const asked = sim.requestLog().filter((r) => r.operation === "listAssociatedResources" && r.tenantId === tenant.tenantId);
      expect(asked.map((r) => r.identityId!.toLowerCase()).sort()).toEqual(candidates.sort());
      expect(candidates.length).toBeLessThan(40);
    } finally {
      await sim.close();
    }
  }, 120_000);
});
