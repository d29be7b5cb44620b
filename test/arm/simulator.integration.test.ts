/**
 * The ARM client against the tenant simulator (simulator/): inventory through Resource Graph, then the
 * associations, identity GET and federated credentials of a few identities, compared with `sim.truth`.
 */
import pThrottle from "p-throttle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArmConnection, type ArmConnection } from "../../src/arm/connection.js";
import { getIdentity, listFederatedCredentials } from "../../src/arm/identities.js";
import { listAllAssociatedResources } from "../../src/arm/associatedResources.js";
import { listIdentities, listRoleAssignments, listSubscriptionNames } from "../../src/arm/resourceGraph.js";
import { resourceIdKey, sameResourceId } from "../../src/arm/resourceId.js";
import type { AssociatedResource, IdentityInventoryItem } from "../../src/arm/types.js";
// The rule keeps src/ away from the simulator; its first block also matches test/ (see the report).
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";

const TENANT_SCOPE = { subscriptions: [], managementGroups: [] };

let sim: RunningSimulator;
let conn: ArmConnection;
let inventory: IdentityInventoryItem[];

beforeAll(async () => {
  sim = await startSimulator({ identities: 50, seed: 1, rate: 50 });
  const tenant = sim.tenants[0];
  if (!tenant) throw new Error("the simulator started no tenant");
  conn = createArmConnection({ endpoint: sim.endpoint, token: tenant.token, ca: sim.ca });
  inventory = [];
  for await (const page of listIdentities(conn, TENANT_SCOPE, { pageSize: 20 })) inventory.push(...page);
});
afterAll(async () => {
  await sim?.close();
});

/**
 * The caller-owned limiter the client expects in front of every listAssociatedResources request: the
 * simulator enforces `rate` (50/s here) per tenant and answers 429 beyond, which the client never retries.
 */
const tenantLimiter = pThrottle({ limit: 20, interval: 1000, strict: true })(async () => {});

async function associations(id: string, query = {}): Promise<{ totalCount: number; pages: number; items: AssociatedResource[] }> {
  const items: AssociatedResource[] = [];
  let totalCount = -1;
  let pages = 0;
  for await (const page of listAllAssociatedResources(conn, id, query, tenantLimiter)) {
    pages += 1;
    if (totalCount < 0) totalCount = page.totalCount;
    items.push(...page.value);
  }
  return { totalCount, pages, items };
}

describe("client against the simulator", () => {
  it("lists every identity of the tenant through Resource Graph (paged)", () => {
    const truth = sim.truth.tenants[0];
    expect(inventory).toHaveLength(50);
    expect(new Set(inventory.map((i) => resourceIdKey(i.id)))).toEqual(new Set(truth?.identities.map((i) => resourceIdKey(i.id))));
    for (const item of inventory) {
      const expected = sim.truth.identity(item.id);
      expect(item).toMatchObject({
        name: expected?.name,
        subscriptionId: expected?.subscriptionId,
        principalId: expected?.principalId,
        clientId: expected?.clientId,
        tags: expected?.tags,
      });
    }
  });

  it("pages listAssociatedResources to the same resources the simulator holds, for a few identities", async () => {
    const used = inventory.filter((i) => (sim.truth.identity(i.id)?.associationCount ?? 0) > 0).slice(0, 3);
    const unused = inventory.filter((i) => sim.truth.identity(i.id)?.associationCount === 0).slice(0, 2);
    expect(used.length).toBeGreaterThan(0);
    expect(unused.length).toBeGreaterThan(0);
    for (const identity of [...used, ...unused]) {
      const expected = sim.truth.associationsOf(identity.id);
      const { totalCount, items } = await associations(identity.id);
      expect(totalCount).toBe(expected.length);
      expect(items.map((r) => resourceIdKey(r.id)).sort()).toEqual(expected.map((r) => resourceIdKey(r.id)).sort());
    }
  });

  it("pages a heavily used identity through its skiptokens, paced by the caller's limiter", async () => {
    const busiest = [...inventory].sort(
      (a, b) => (sim.truth.identity(b.id)?.associationCount ?? 0) - (sim.truth.identity(a.id)?.associationCount ?? 0),
    )[0];
    if (!busiest) throw new Error("empty inventory");
    const expected = sim.truth.associationsOf(busiest.id);
    const top = Math.max(1, Math.ceil(expected.length / 5));
    const { totalCount, pages, items } = await associations(busiest.id, { top });
    expect(pages).toBeGreaterThan(1);
    expect(totalCount).toBe(expected.length);
    expect(new Set(items.map((r) => resourceIdKey(r.id)))).toEqual(new Set(expected.map((r) => resourceIdKey(r.id))));
    expect(items).toHaveLength(expected.length);
  });

  it("GETs identities (no systemData, as the real recordings) and lists their federated credentials", async () => {
    for (const identity of inventory.slice(0, 3)) {
      const expected = sim.truth.identity(identity.id);
      const details = await getIdentity(conn, identity.id);
      expect(sameResourceId(details.id, identity.id)).toBe(true);
      expect(details.createdAt).toBeUndefined();
      expect(details.principalId).toBe(expected?.principalId);
      const credentials = await listFederatedCredentials(conn, identity.id);
      expect(credentials.map((c) => c.name).sort()).toEqual(sim.truth.federatedCredentialsOf(identity.id).map((c) => c.name).sort());
    }
  });

  it("names every subscription of the tenant through Resource Graph", async () => {
    const names = await listSubscriptionNames(conn, TENANT_SCOPE);
    const truth = sim.truth.tenants[0]!.subscriptions;
    expect(names).toEqual(new Map(truth.map((s) => [s.subscriptionId.toLowerCase(), s.displayName])));
  });

  it("finds the identities' role assignments with their role names", async () => {
    const assignments = await listRoleAssignments(conn, TENANT_SCOPE);
    const truth = sim.truth.tenants[0];
    const identityWithRoles = truth?.identities.find((i) => i.roleAssignments.length > 0);
    if (!identityWithRoles) throw new Error("the simulated tenant has no identity with a role");
    const mine = assignments.filter((a) => a.principalId === identityWithRoles.principalId);
    expect(mine.map((a) => a.roleName).sort()).toEqual(identityWithRoles.roleAssignments.map((a) => a.roleName).sort());
  });
});
