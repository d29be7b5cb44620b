/**
 * One run per tenant, whatever the timing: many starters (each with its own storage clients, as separate
 * instances would have) race to start a run while a TCP proxy in front of Azurite's table port adds
 * 8-12 ms to every packet in both directions.
 */
import { randomUUID } from "node:crypto";
import { odata } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAuditStorage, ensureAuditStorage, type AuditStorage } from "../../src/store/auditStorage.js";
import { getRun, startRun, type StartRunResult } from "../../src/store/runs.js";
import { servicePort, startLatencyProxy, withServicePort, type LatencyProxy } from "../helpers/latencyProxy.js";
import { freshAuditStorage, testStorageAccount, uniquePrefix } from "../helpers/storage.js";

const scope = { subscriptions: [], managementGroups: [] };
const TRIALS = 40;
const STARTERS = 6;
/** Starters begin at random offsets in this window: the lost race of the old lock was 12-16 ms wide. */
const SPREAD_MS = 40;

describe("the run lock under storage latency (TCP proxy in front of Azurite's table port)", () => {
  let proxy: LatencyProxy;
  let prefix: string;
  let connectionString: string;
  beforeAll(async () => {
    const account = testStorageAccount();
    if (account.kind !== "connectionString") throw new Error("needs a connection string");
    prefix = uniquePrefix();
    await ensureAuditStorage(openAuditStorage(account, prefix));
    proxy = await startLatencyProxy(servicePort(account.connectionString, "Table"), { minMs: 8, maxMs: 12 });
    connectionString = withServicePort(account.connectionString, "Table", proxy.port);
  });
  afterAll(() => proxy?.close());

  /** Storage clients of their own, through the proxy: one per starter, as on separate instances. */
  const slowStorage = (): AuditStorage => openAuditStorage({ kind: "connectionString", connectionString }, prefix);

  it(`${TRIALS} trials of ${STARTERS} starters spread over ${SPREAD_MS} ms: exactly one run each time, no orphan rows`, async () => {
    const startedPerTrial: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const tenantId = randomUUID();
      const results = await Promise.all(
        Array.from({ length: STARTERS }, async (): Promise<StartRunResult> => {
          const storage = slowStorage();
          await new Promise((r) => setTimeout(r, Math.random() * SPREAD_MS));
          return startRun(storage, { tenantId, scope, trigger: "timer", now: new Date() });
        }),
      );
      const started = results.filter((r) => r.started);
      startedPerTrial.push(started.length);
      if (started.length !== 1) continue;
      const winner = started[0]!.started ? started[0]!.run.runId : "";
      // Every loser names the winner, and the winner's run is the only row of the tenant.
      for (const r of results) if (!r.started) expect(r.activeRunId).toBe(winner);
      const storage = slowStorage();
      const indexed = [];
      for await (const row of storage.runIndex.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${tenantId}` } })) indexed.push(row);
      expect(indexed).toHaveLength(1);
      const runRows = [];
      for await (const row of storage.audits.listEntities({ queryOptions: { filter: odata`tenantId eq ${tenantId} and RowKey eq 'run'` } })) runRows.push(row);
      expect(runRows.map((r) => r.partitionKey)).toEqual([winner]);
    }
    console.log(`run lock: ${TRIALS} trials x ${STARTERS} starters, runs started per trial: ${JSON.stringify(startedPerTrial)}`);
    expect(startedPerTrial).toEqual(Array.from({ length: TRIALS }, () => 1));
  }, 120_000);
});

describe("a lock whose run row is missing", () => {
  it("counts as held until it is clearly stale, then is taken over", async () => {
    const storage = await freshAuditStorage();
    const tenantId = randomUUID();
    // As an older version left it when it crashed between writing the lock and writing its run.
    await storage.locks.createEntity({ partitionKey: tenantId, rowKey: "active-run", runId: "20260101000000-0badf00d" });
    const now = new Date();
    expect(await startRun(storage, { tenantId, scope, trigger: "timer", now })).toEqual({ started: false, activeRunId: "20260101000000-0badf00d" });
    const later = await startRun(storage, { tenantId, scope, trigger: "timer", now: new Date(now.getTime() + 60 * 60_000) });
    expect(later.started).toBe(true);
    if (later.started) expect(await getRun(storage, later.run.runId)).toMatchObject({ status: "enumerating", tenantId });
  });
});
