/**
 * Hidden usage over real HTTPS: identities the API says nothing about, found by the app's own Resource Graph
 * queries (src/arm/queries.ts) in `resources` (identity bags, properties) and `policyresources` (management-group
 * assignments, visible above a subscription only with a wider authorizationScopeFilter), and the ground truth
 * that names every case.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityBagReferencesQuery, policyAssignmentReferencesQuery, propertyReferencesQuery } from "../../src/arm/queries.js";
import type { IdentityTruth } from "../groundTruth.js";
import type { RunningSimulator } from "../index.js";
import { HIDDEN_USAGE_KINDS } from "../model.js";
import { ARG_PATH, clientFor, listUrl, startFast } from "./fixture.js";
import type { SimClient } from "./httpsClient.js";

let sim: RunningSimulator;
let client: SimClient;
let identities: readonly IdentityTruth[];
let subscriptions: string[];

beforeAll(async () => {
  sim = await startFast({ identities: 80, seed: "hidden-conformance", subscriptionsPerTenant: 3, hiddenUsageShare: 0.1 });
  client = clientFor(sim);
  identities = sim.truth.tenants[0]!.identities;
  subscriptions = sim.tenants[0]!.subscriptions;
});

afterAll(async () => {
  client.close();
  await sim.close();
});

/** A sweep row: one per identity (and kubelet flag), as the app's summarising queries return them. */
type Row = { id: string; referenceCount: number; resourceIds: string[]; isKubelet?: boolean } & Record<string, unknown>;

async function queryAll(query: string, extra: { subscriptions?: string[]; options?: Record<string, unknown> } = {}): Promise<Row[]> {
  const rows: Row[] = [];
  let token: string | undefined;
  do {
    const response = await client.post(ARG_PATH, { body: { query, ...extra, options: { ...extra.options, ...(token ? { $skipToken: token } : {}) } } });
    expect(response.status, response.text).toBe(200);
    rows.push(...(response.body.data as Row[]));
    token = response.body.$skipToken as string | undefined;
  } while (token);
  return rows;
}

const hiddenWith = (kind: string) => identities.filter((i) => i.hiddenUsage.includes(kind as IdentityTruth["hiddenUsage"][number]));
const named = (rows: Row[]) => new Set(rows.map((r) => r.id));
const rowOf = (rows: Row[], identityKey: string, isKubelet?: boolean) => rows.find((r) => r.id === identityKey && (isKubelet === undefined || r.isKubelet === isKubelet));
const key = (identity: IdentityTruth) => identity.id.toLowerCase();

describe("hidden usage: the ground truth", () => {
  it("marks every kind, counts it as used, and the API lists nothing for it", async () => {
    for (const kind of HIDDEN_USAGE_KINDS) expect(sim.truth.hiddenUsageOf(kind).length, kind).toBeGreaterThan(0);
    const hidden = identities.filter((i) => i.hiddenUsage.length > 0);
    expect(hidden).toHaveLength(8);
    for (const identity of hidden) {
      expect(sim.truth.isUsed(identity.id)).toBe(true);
      expect(sim.truth.tenants[0]!.isUsed(identity.id)).toBe(true);
      const response = await client.post(listUrl(identity));
      expect(response.status).toBe(200);
      expect(response.text).toBe('{"totalCount":0,"value":[]}');
    }
    // What the API alone calls unused includes them; what is truly unused does not.
    const apiUnused = new Set(sim.truth.tenants[0]!.unusedIdentities().map(key));
    for (const identity of hidden) expect(apiUnused.has(key(identity))).toBe(true);
    const trulyUnused = identities.filter((i) => !sim.truth.isUsed(i.id));
    expect(trulyUnused.length).toBeGreaterThan(0);
    for (const identity of trulyUnused) expect(identity.associationCount + identity.federatedCredentialCount + identity.hiddenUsage.length).toBe(0);
    expect(sim.truth.isUsed("/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/none")).toBe(false);
  });

  it("names the referencing resources, none for signInOnly", () => {
    for (const identity of sim.truth.hiddenUsageOf("signInOnly")) expect(sim.truth.hiddenReferencesOf(identity.id)).toEqual([]);
    for (const kind of ["previewType", "kubelet", "properties", "policyAssignment"] as const) {
      for (const identity of sim.truth.hiddenUsageOf(kind)) {
        const references = sim.truth.hiddenReferencesOf(identity.id).filter((r) => r.kind === kind);
        expect(references, `${identity.name} ${kind}`).toHaveLength(1);
      }
    }
  });
});

describe("hidden usage: the app's Resource Graph queries find each kind where it lives", () => {
  it("identity bags: preview-type resources, not the kubelet, properties or sign-in-only ones", async () => {
    const rows = await queryAll(identityBagReferencesQuery());
    const found = named(rows);
    for (const identity of hiddenWith("previewType")) expect(found.has(key(identity)), identity.name).toBe(true);
    for (const identity of identities.filter((i) => i.hiddenUsage.length > 0 && !i.hiddenUsage.includes("previewType"))) {
      expect(found.has(key(identity)), identity.name).toBe(false);
    }
    const previewTypes = new Set(hiddenWith("previewType").flatMap((i) => sim.truth.hiddenReferencesOf(i.id).filter((r) => r.kind === "previewType").map((r) => r.type.toLowerCase())));
    for (const type of previewTypes) expect(["microsoft.servicefabric/managedclusters", "microsoft.machinelearningservices/workspaces"]).toContain(type);
    // Every used identity's associations show up too (policy assignments aside: they live in policyresources).
    const used = identities.find((i) => i.associationCount > 1 && i.associationCount <= 10)!;
    const expected = sim.truth.associationsOf(used.id).filter((a) => a.type !== "microsoft.authorization/policyassignments");
    const row = rowOf(rows, key(used))!;
    expect(row.referenceCount).toBe(expected.length);
    expect([...row.resourceIds].sort()).toEqual(expected.map((a) => a.id).sort());
    // A busy identity: its resources are counted exactly, and ten of them are named.
    const busy = identities.find((i) => sim.truth.associationsOf(i.id).filter((a) => a.type !== "microsoft.authorization/policyassignments").length > 10);
    if (busy) {
      const busyRow = rowOf(rows, key(busy))!;
      expect(busyRow.referenceCount).toBe(sim.truth.associationsOf(busy.id).filter((a) => a.type !== "microsoft.authorization/policyassignments").length);
      expect(busyRow.resourceIds).toHaveLength(10);
    }
  });

  it("properties: customer-managed keys, Key Vault reference identities and kubelets, with the kubelet column", async () => {
    const rows = await queryAll(propertyReferencesQuery());
    const found = named(rows);
    for (const identity of [...hiddenWith("properties"), ...hiddenWith("kubelet")]) expect(found.has(key(identity)), identity.name).toBe(true);
    for (const identity of hiddenWith("signInOnly")) expect(found.has(key(identity))).toBe(false);
    for (const identity of hiddenWith("kubelet")) {
      const [reference] = sim.truth.hiddenReferencesOf(identity.id).filter((r) => r.kind === "kubelet");
      expect(rowOf(rows, key(identity), true)).toEqual({ id: key(identity), isKubelet: true, referenceCount: 1, resourceIds: [reference!.resourceId] });
      expect(reference!.resourceId).toMatch(/\/providers\/Microsoft\.ContainerService\/managedClusters\/[^/]+$/);
    }
    for (const identity of hiddenWith("properties")) {
      const [reference] = sim.truth.hiddenReferencesOf(identity.id);
      const row = rowOf(rows, key(identity), false)!;
      expect(row.resourceIds).toContain(reference!.resourceId);
      expect(reference!.resourceId).toMatch(/\/providers\/Microsoft\.(Storage\/storageAccounts|Web\/sites)\/[^/]+$/);
    }
    // The identities' own rows are left out by `type !startswith 'microsoft.managedidentity/'`.
    expect(rows.flatMap((r) => r.resourceIds).some((id) => /\/providers\/microsoft\.managedidentity\//i.test(id))).toBe(false);
  });

  it("the kubelet cluster is the control plane's association, listed by the API for it", async () => {
    const [identity] = hiddenWith("kubelet");
    const [reference] = sim.truth.hiddenReferencesOf(identity!.id);
    const controlPlane = identities.find((i) => sim.truth.associationsOf(i.id).some((a) => a.id === reference!.resourceId))!;
    expect(controlPlane.hiddenUsage).toEqual([]);
    // The bag query over the cluster alone: it names the control plane's identity, not the kubelet's.
    const bag = await queryAll(identityBagReferencesQuery().replace("resources\n", `resources\n| where id == '${reference!.resourceId}'\n`));
    expect(bag.map((r) => [r.id, r.resourceIds])).toEqual([[key(controlPlane), [reference!.resourceId]]]);
  });

  it("policyresources: management-group assignments only with a scope filter reaching above the subscriptions", async () => {
    const query = policyAssignmentReferencesQuery();
    const below = await queryAll(query, { subscriptions });
    const above = await queryAll(query, { subscriptions, options: { authorizationScopeFilter: "AtScopeAndAbove" } });
    const both = await queryAll(query, { subscriptions, options: { authorizationScopeFilter: "AtScopeAboveAndBelow" } });
    for (const identity of hiddenWith("policyAssignment")) {
      expect(named(below).has(key(identity))).toBe(false);
      expect(named(above).has(key(identity)), identity.name).toBe(true);
      expect(named(both).has(key(identity))).toBe(true);
      const row = rowOf(above, key(identity))!;
      expect(row.resourceIds[0]).toMatch(/^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+\/providers\/Microsoft\.Authorization\/policyAssignments\/[^/]{1,24}$/);
    }
    // The subscription-level assignments the API lists are in policyresources (seen with either filter), not in resources.
    const listed = identities.flatMap((i) => sim.truth.associationsOf(i.id).filter((a) => a.type === "microsoft.authorization/policyassignments").map((a) => [a.id, key(i)]));
    expect(listed.length).toBeGreaterThan(0);
    for (const [id, identityId] of listed) {
      for (const rows of [below, above]) {
        const row = rowOf(rows, identityId!)!;
        // Ten resources are named per identity; beyond that the count still holds every one.
        if (row.referenceCount <= 10) expect(row.resourceIds).toContain(id);
        expect(row.referenceCount).toBeGreaterThanOrEqual(listed.filter(([, i]) => i === identityId).length);
      }
    }
    expect(await queryAll("resources | where type =~ 'microsoft.authorization/policyassignments' | project id")).toEqual([]);
    // Tenant scope (the root group) sees every assignment below it with the default filter.
    const tenantWide = await queryAll(query);
    for (const identity of hiddenWith("policyAssignment")) expect(named(tenantWide).has(key(identity))).toBe(true);
  });

  it("signInOnly identities are named nowhere in Resource Graph", async () => {
    const text = JSON.stringify([
      ...(await queryAll("resources | where type !~ 'microsoft.managedidentity/userassignedidentities' | project id, identity, properties")),
      ...(await queryAll("policyresources | project id, identity, properties", { options: { authorizationScopeFilter: "AtScopeAboveAndBelow" } })),
    ]).toLowerCase();
    for (const identity of hiddenWith("signInOnly")) expect(text.includes(JSON.stringify(identity.id).slice(1, -1).toLowerCase())).toBe(false);
  });

  it("removing the kubelet cluster from its control plane ends the kubelet's hidden use", async () => {
    const other = await startFast({ identities: 30, seed: "hidden-removal" });
    try {
      const [kubelet] = other.truth.hiddenUsageOf("kubelet");
      const [reference] = other.truth.hiddenReferencesOf(kubelet!.id);
      const controlPlane = other.truth.tenants[0]!.identities.find((i) => other.truth.associationsOf(i.id).some((a) => a.id === reference!.resourceId))!;
      other.removeAssociations(controlPlane.id);
      expect(other.truth.identity(kubelet!.id)!.hiddenUsage).toEqual([]);
      expect(other.truth.isUsed(kubelet!.id)).toBe(false);
      expect(other.truth.hiddenReferencesOf(kubelet!.id)).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
