import { describe, expect, it } from "vitest";
import { scanOutput } from "../../src/cli/scanOutput.js";
import { getIdentityResult, insertInventory } from "../../src/store/identityResults.js";
import { getRun, recordIdentityResult, startRun } from "../../src/store/runs.js";
import { freshAuditStorage } from "../helpers/storage.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUB = "0336439f-0e9d-44ec-975e-62accb9b3901";
const options = { now: new Date("2026-11-27T00:00:00Z"), gracePeriodDays: 7, exemptTag: "uami-audit-exempt" };

describe("scan --out without a built report (the run did not complete)", () => {
  it("derives verdicts with the same rules as the report: zero associations alone is not `unused`", async () => {
    const storage = await freshAuditStorage();
    const started = await startRun(storage, { tenantId: TENANT, scope: { subscriptions: [], managementGroups: [] }, trigger: "cli", now: new Date() });
    if (!started.started) throw new Error("not started");
    const runId = started.run.runId;
    const item = (name: string) => ({
      id: `/subscriptions/${SUB}/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
      name, subscriptionId: SUB, resourceGroup: "rg", location: "eastus", tenantId: TENANT, principalId: "p", clientId: "c", tags: {},
    });
    await insertInventory(storage, runId, [item("proved-unused"), item("credentials-unknown"), item("never-checked")]);
    for (const [name, fic] of [["proved-unused", 0], ["credentials-unknown", undefined]] as const) {
      const row = (await getIdentityResult(storage, runId, item(name).id))!;
      await recordIdentityResult(storage, { ...row, status: "checked", associationCount: 0, federatedCredentialCount: fic, createdAt: "2025-01-01T00:00:00Z" }, { requests: 3 }, new Date());
    }
    const run = (await getRun(storage, runId))!;
    const output = await scanOutput({ storage }, run, { options });
    expect(Object.fromEntries(output.identities.map((i) => [i.name, i.verdict]))).toEqual({
      "proved-unused": "unused",
      "credentials-unknown": "error",
      "never-checked": "error",
    });
  });
});
