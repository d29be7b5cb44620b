import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import { startAudit } from "../../src/audit/startAudit.js";
import { encodeQueueMessage } from "../../src/queues.js";
import { getRun } from "../../src/store/runs.js";
import { depsFor, drainUntilFinished, exited, identityRows, spawnWorker } from "../helpers/pipeline.js";

const WHOLE_TENANT = { subscriptions: [], managementGroups: [] };
const RATE = 40;

describe("nothing is lost when things fail", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // One tenant per test: mutations and faults of one test never touch another's ground truth. Every run is
    // exhaustive: each identity goes through the checks these faults hit (fast mode would record the ones
    // Resource Graph shows referenced without a check, and their rows have no API count to compare).
    // Twice the limiter's rate: the 429s these tests count are the injected ones, not timing noise.
    sim = await startSimulator({ identities: 40, seed: 77, rate: 2 * RATE, tenants: 6 });
  });
  afterAll(() => sim?.close());

  async function expectMatchesTruth(rows: Awaited<ReturnType<typeof identityRows>>, expectedChecked: number) {
    const checked = rows.filter((row) => row.status === "checked");
    expect(checked).toHaveLength(expectedChecked);
    for (const row of checked) {
      const truth = sim.truth.identity(row.id)!;
      expect(row.associationCount, row.id).toBe(truth.associationCount);
      expect(row.federatedCredentialCount, row.id).toBe(truth.federatedCredentialCount);
    }
  }

  it("a 429 burst and 5% of 500/503 answers still end in a complete, correct run", async () => {
    const { deps, tenant } = await depsFor(sim, { rate: RATE, tenant: 0, mode: "exhaustive" });
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("not started");
    sim.setFaults({ errorRate: 0.05 });
    sim.forceThrottle(tenant.tenantId, { count: 6, retryAfterSeconds: 1 });
    try {
      const run = await drainUntilFinished(deps, started.run.runId, { timeoutMs: 90_000 });
      expect(run).toMatchObject({ status: "complete", expected: 40, checked: 40, failed: 0, deleted: 0 });
      expect(run.throttled).toBeGreaterThanOrEqual(6);
    } finally {
      sim.setFaults({});
    }
    const statuses = sim.requestLog().filter((e) => e.tenantId === tenant.tenantId).map((e) => e.status);
    expect(statuses.filter((s) => s === 500 || s === 503).length).toBeGreaterThan(0);
    await expectMatchesTruth(await identityRows(deps, started.run.runId), 40);
  }, 120_000);

  it("an identity deleted after enumeration ends as `deleted`, not unused", async () => {
    const { deps, tenant } = await depsFor(sim, { rate: RATE, tenant: 1, mode: "exhaustive" });
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("not started");
    const victims = sim.truth.tenants[1]!.identities.slice(0, 2).map((i) => i.id);
    for (const id of victims) sim.deleteIdentity(id);
    const run = await drainUntilFinished(deps, started.run.runId);
    expect(run).toMatchObject({ status: "complete", checked: 38, deleted: 2, failed: 0 });
    const rows = await identityRows(deps, started.run.runId);
    const deleted = rows.filter((r) => r.status === "deleted").map((r) => r.id.toLowerCase()).sort();
    expect(deleted).toEqual(victims.map((v) => v.toLowerCase()).sort());
    await expectMatchesTruth(rows, 38);
  }, 90_000);

  it("duplicated messages write no duplicate rows and count each identity once", async () => {
    const { deps, tenant } = await depsFor(sim, { rate: RATE, tenant: 2, mode: "exhaustive" });
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("not started");
    for (const identity of sim.truth.tenants[2]!.identities.slice(0, 10)) {
      const message = encodeQueueMessage({ kind: "check", runId: started.run.runId, tenantId: tenant.tenantId, identityId: identity.id });
      await deps.storage.checkQueue.sendMessage(message);
      await deps.storage.checkQueue.sendMessage(message);
    }
    const run = await drainUntilFinished(deps, started.run.runId);
    expect(run).toMatchObject({ status: "complete", expected: 40, checked: 40, failed: 0 });
    const rows = await identityRows(deps, started.run.runId);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.id.toLowerCase())).size).toBe(40);
    await expectMatchesTruth(rows, 40);
  }, 90_000);

  it("an identity that always fails ends as `error` on its last attempt, with the reason", async () => {
    const { deps, tenant } = await depsFor(sim, { rate: RATE, tenant: 3, maxDequeueCount: 3, mode: "exhaustive" });
    const failing = sim.truth.tenants[3]!.identities[0]!.id;
    sim.failIdentity(failing, 500);
    try {
      const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
      if (!started.started) throw new Error("not started");
      const run = await drainUntilFinished(deps, started.run.runId, { maxDequeueCount: 3, visibilityTimeoutSeconds: 0 });
      expect(run).toMatchObject({ status: "complete", checked: 39, failed: 1 });
      const errors = (await identityRows(deps, started.run.runId)).filter((r) => r.status === "error");
      expect(errors.map((r) => r.id)).toEqual([failing]);
      expect(errors[0]!.error).toMatch(/500/);
      expect(await deps.storage.checkPoisonQueue.peekMessages()).toMatchObject({ peekedMessageItems: [] });
    } finally {
      sim.failIdentity(failing, 200);
    }
  }, 90_000);

  it("a check the host poisons (the handler kept failing) is recorded as `error` by the poison-queue function", async () => {
    const { deps, tenant } = await depsFor(sim, { rate: RATE, tenant: 5, mode: "exhaustive" });
    const poisoned = sim.truth.tenants[5]!.identities[0]!.id;
    sim.failIdentity(poisoned, 503);
    try {
      const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
      if (!started.started) throw new Error("not started");
      // The handler believes more attempts remain (as after a crash on the last delivery), so only the
      // host's maxDequeueCount stops it: the message goes to the poison queue.
      const crashLooping = { ...deps, settings: { ...deps.settings, maxDequeueCount: 99 } };
      const run = await drainUntilFinished(crashLooping, started.run.runId, { maxDequeueCount: 3, visibilityTimeoutSeconds: 0 });
      expect(run).toMatchObject({ status: "complete", checked: 39, failed: 1 });
      const errors = (await identityRows(deps, started.run.runId)).filter((r) => r.status === "error");
      expect(errors.map((r) => r.id)).toEqual([poisoned]);
      expect(errors[0]!.error).toMatch(/poison/);
    } finally {
      sim.failIdentity(poisoned, 200);
    }
  }, 90_000);

  it("a worker process killed mid-run (SIGKILL) loses nothing", async () => {
    const { deps, prefix, tenant } = await depsFor(sim, { rate: 10, tenant: 4, mode: "exhaustive" });
    const started = await startAudit(deps, { tenantId: tenant.tenantId, scope: WHOLE_TENANT, trigger: "timer" });
    if (!started.started) throw new Error("not started");
    const args = { prefix, runId: started.run.runId, rate: 10, safetyMs: 0, tenant: 4, leaseSeconds: 4, workers: 3 };
    const victim = spawnWorker(sim, args);
    const survivor = spawnWorker(sim, args);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const run = await getRun(deps.storage, started.run.runId);
      if (run && run.checked >= 8) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Killed mid-run: work done, work left, and the victim still running.
    const before = await getRun(deps.storage, started.run.runId);
    expect(before?.checked).toBeGreaterThanOrEqual(8);
    expect(before?.status).not.toBe("complete");
    expect(victim.exitCode).toBeNull();
    victim.kill("SIGKILL");
    expect(await exited(survivor)).toBe(0);
    const run = await getRun(deps.storage, started.run.runId);
    expect(run).toMatchObject({ status: "complete", expected: 40, checked: 40, failed: 0 });
    await expectMatchesTruth(await identityRows(deps, started.run.runId), 40);
  }, 120_000);
});
