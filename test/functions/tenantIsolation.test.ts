/**
 * Two function apps, one per tenant, sharing one storage account (the same tables): each app's HTTP API
 * answers only about its own tenant. Records are read by key (run id, identity id), so the key alone
 * must never be enough to see another tenant's data. Real handlers in test mode, against Azurite.
 */
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import type { IdentityInventoryItem } from "../../src/arm/types.js";
import { getAudit } from "../../src/functions/getAudit.js";
import { getIdentityHistory } from "../../src/functions/getIdentityHistory.js";
import { writeHistory } from "../../src/store/identityResults.js";
import { startRun } from "../../src/store/runs.js";
import { capturingContext, testRuntime } from "../helpers/runtime.js";
import { uniquePrefix } from "../helpers/storage.js";

const TENANT_A = "aaaaaaaa-0000-4000-8000-000000000001";
const TENANT_B = "bbbbbbbb-0000-4000-8000-000000000002";
const SUB_B = "0336439f-0e9d-44ec-975e-62accb9b3901";

function identityOfB(): IdentityInventoryItem {
  return {
    id: `/subscriptions/${SUB_B}/resourcegroups/rg-b/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-secret`,
    name: "id-secret",
    subscriptionId: SUB_B,
    resourceGroup: "rg-b",
    location: "eastus",
    tenantId: TENANT_B,
    principalId: "00000000-0000-0000-0000-00000000000b",
    clientId: "11111111-0000-0000-0000-00000000000b",
    tags: { owner: "team-b" },
  };
}

async function appsSharingStorage() {
  const prefix = uniquePrefix();
  const a = await testRuntime({ UAMI_AUDIT_TENANT_ID: TENANT_A }, prefix);
  const b = await testRuntime({ UAMI_AUDIT_TENANT_ID: TENANT_B }, prefix);
  return { a, b };
}

describe("tenants sharing one storage account never see each other's records", () => {
  it("GET /api/identities/{sub}/{rg}/{name} of tenant B's identity through tenant A's app: 404; through B's: 200", async () => {
    const { a, b } = await appsSharingStorage();
    const started = await startRun(b.deps.storage, { tenantId: TENANT_B, scope: { subscriptions: [], managementGroups: [] }, trigger: "timer", now: new Date() });
    if (!started.started) throw new Error("not started");
    const identity = identityOfB();
    await writeHistory(
      b.deps.storage,
      { ...identity, runId: started.run.runId, status: "checked", associations: [], associationCount: 0, federatedCredentialCount: 0, checkedAt: started.run.startedAt },
      started.run.startedAt,
    );
    const params = { subscriptionId: SUB_B, resourceGroup: "rg-b", name: "id-secret" };
    const url = `http://localhost:7071/api/identities/${SUB_B}/rg-b/id-secret`;

    const throughA = await getIdentityHistory(new HttpRequest({ method: "GET", url, params }), capturingContext("getIdentityHistory").context, () => Promise.resolve(a));
    expect(throughA.status).toBe(404);
    expect(JSON.stringify(throughA.jsonBody)).not.toMatch(/team-b|00000000-0000-0000-0000-00000000000b/);

    const throughB = await getIdentityHistory(new HttpRequest({ method: "GET", url, params }), capturingContext("getIdentityHistory").context, () => Promise.resolve(b));
    expect(throughB.status).toBe(200);
    expect(throughB.jsonBody).toMatchObject({ name: "id-secret", tags: { owner: "team-b" } });
  });

  it("an identity seen by both tenants (its subscription moved) shows each app only its own runs", async () => {
    const { a, b } = await appsSharingStorage();
    const identity = identityOfB();
    const scope = { subscriptions: [], managementGroups: [] };
    const runB = await startRun(b.deps.storage, { tenantId: TENANT_B, scope, trigger: "timer", now: new Date("2026-01-01T02:00:00Z") });
    const runA = await startRun(a.deps.storage, { tenantId: TENANT_A, scope, trigger: "timer", now: new Date("2026-02-01T02:00:00Z") });
    if (!runA.started || !runB.started) throw new Error("not started");
    await writeHistory(b.deps.storage, { ...identity, runId: runB.run.runId, status: "checked", associations: [], associationCount: 3 }, runB.run.startedAt);
    await writeHistory(a.deps.storage, { ...identity, tenantId: TENANT_A, tags: {}, runId: runA.run.runId, status: "checked", associations: [], associationCount: 0 }, runA.run.startedAt);
    const params = { subscriptionId: SUB_B, resourceGroup: "rg-b", name: "id-secret" };
    const response = await getIdentityHistory(new HttpRequest({ method: "GET", url: "http://localhost:7071/api/identities/x", params }), capturingContext("getIdentityHistory").context, () => Promise.resolve(a));
    expect(response.status).toBe(200);
    const body = response.jsonBody as { tags: Record<string, string>; history: { runId: string }[] };
    expect(body.history.map((h) => h.runId)).toEqual([runA.run.runId]);
    expect(body.tags).toEqual({});
  });

  it("GET /api/audits/{runId} of tenant B's run through tenant A's app: 404", async () => {
    const { a } = await appsSharingStorage();
    const started = await startRun(a.deps.storage, { tenantId: TENANT_B, scope: { subscriptions: [], managementGroups: [] }, trigger: "timer", now: new Date() });
    if (!started.started) throw new Error("not started");
    const params = { runId: started.run.runId };
    const response = await getAudit(new HttpRequest({ method: "GET", url: `http://localhost:7071/api/audits/${started.run.runId}`, params }), capturingContext("getAudit").context, () => Promise.resolve(a));
    expect(response.status).toBe(404);
  });
});
