import { describe, expect, it } from "vitest";
import type { IdentityInventoryItem } from "../../src/arm/types.js";
import { getIdentityResult, insertInventory, listIdentityResults, readHistory, writeHistory } from "../../src/store/identityResults.js";
import { finishEnumeration, getRun, latestCompletedRun, recordIdentityResult, releaseRunLock, startRun } from "../../src/store/runs.js";
import { freshAuditStorage } from "../helpers/storage.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

function item(i: number, rg = "rg-é-日本.(x)"): IdentityInventoryItem {
  return {
    id: `/subscriptions/0336439f-0e9d-44ec-975e-62accb9b3901/resourcegroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}`,
    name: `id-${i}`,
    subscriptionId: "0336439f-0e9d-44ec-975e-62accb9b3901",
    resourceGroup: rg,
    location: "eastus",
    tenantId: TENANT,
    principalId: `00000000-0000-0000-0000-${String(i).padStart(12, "0")}`,
    clientId: `11111111-0000-0000-0000-${String(i).padStart(12, "0")}`,
    tags: i % 2 ? { owner: "<team>" } : {},
  };
}

const scope = { subscriptions: [], managementGroups: [] };

describe("runs and identity rows (against Azurite)", () => {
  it("refuses a second start while a run is in progress, and allows one after it ends", async () => {
    const storage = await freshAuditStorage();
    const now = new Date();
    const first = await startRun(storage, { tenantId: TENANT, scope, trigger: "timer", now });
    expect(first.started).toBe(true);
    const racing = await Promise.all([1, 2, 3].map(() => startRun(storage, { tenantId: TENANT, scope, trigger: "http", now })));
    for (const r of racing) expect(r).toEqual({ started: false, activeRunId: first.started ? first.run.runId : "" });
    if (!first.started) return;
    await finishEnumeration(storage, first.run.runId, 0, now);
    expect((await getRun(storage, first.run.runId))?.status).toBe("complete");
    await releaseRunLock(storage, TENANT, first.run.runId);
    const again = await startRun(storage, { tenantId: TENANT, scope, trigger: "timer", now: new Date() });
    expect(again.started).toBe(true);
  });

  it("counts each identity exactly once and completes the run exactly once under concurrent and duplicate results", async () => {
    const storage = await freshAuditStorage();
    const now = new Date();
    const started = await startRun(storage, { tenantId: TENANT, scope, trigger: "cli", now });
    if (!started.started) throw new Error("not started");
    const runId = started.run.runId;
    const items = Array.from({ length: 12 }, (_, i) => item(i));
    const inserted = await insertInventory(storage, runId, [...items, items[0]!]);
    expect(inserted).toHaveLength(12);
    expect(await insertInventory(storage, runId, items.slice(0, 3))).toHaveLength(0);
    await finishEnumeration(storage, runId, inserted.length, now);

    // Every identity recorded twice, all at once: duplicates must not count.
    const outcomes = await Promise.all(
      [...items, ...items].map(async (it, n) => {
        const current = (await getIdentityResult(storage, runId, it.id))!;
        const status = n % 12 === 3 ? "deleted" : n % 12 === 4 ? "error" : "checked";
        return recordIdentityResult(storage, { ...current, status, associationCount: n % 3, federatedCredentialCount: 0 }, { requests: 3 }, new Date());
      }),
    );
    expect(outcomes.filter((o) => o.recorded)).toHaveLength(12);
    expect(outcomes.filter((o) => o.recorded && o.completedNow)).toHaveLength(1);
    const run = await getRun(storage, runId);
    expect(run).toMatchObject({ status: "complete", expected: 12, checked: 10, deleted: 1, failed: 1, requests: 36 });
    const rows = [];
    for await (const r of listIdentityResults(storage, runId)) rows.push(r);
    expect(rows).toHaveLength(12);
    expect(rows.find((r) => r.name === "id-1")?.tags).toEqual({ owner: "<team>" });
    expect(await latestCompletedRun(storage, TENANT)).toMatchObject({ runId });
  });

  it("keeps each identity's history across runs, newest first, whatever the id's casing", async () => {
    const storage = await freshAuditStorage();
    const base = { ...item(7), runId: "r1", status: "checked" as const, associations: [], associationCount: 0 };
    await writeHistory(storage, base, "2026-01-01T00:00:00.000Z");
    await writeHistory(storage, { ...base, runId: "r2", id: base.id.toUpperCase().replace("/SUBSCRIPTIONS", "/subscriptions"), associationCount: 2 }, "2026-02-01T00:00:00.000Z");
    await writeHistory(storage, { ...base, runId: "r2" }, "2026-02-01T00:00:00.000Z");
    const history = await readHistory(storage, base.id);
    expect(history.map((h) => h.runId)).toEqual(["r2", "r1"]);
    expect(history[0]?.runStartedAt).toBe("2026-02-01T00:00:00.000Z");
  });

  it("takes over a run stuck without progress (its messages were lost), but never a live one", async () => {
    const storage = await freshAuditStorage();
    const now = new Date();
    const stuck = await startRun(storage, { tenantId: TENANT, scope, trigger: "timer", now });
    if (!stuck.started) throw new Error("not started");
    await finishEnumeration(storage, stuck.run.runId, 5, now);
    const soon = await startRun(storage, { tenantId: TENANT, scope, trigger: "timer", now: new Date(now.getTime() + 5 * 3600_000) });
    expect(soon).toEqual({ started: false, activeRunId: stuck.run.runId });
    const later = await startRun(storage, { tenantId: TENANT, scope, trigger: "timer", now: new Date(now.getTime() + 7 * 3600_000) });
    expect(later.started).toBe(true);
    const old = await getRun(storage, stuck.run.runId);
    expect(old).toMatchObject({ status: "failed" });
    expect(old?.error).toMatch(/No progress since .*0 of 5 accounted for.*superseded by run/);
  });
});
