/**
 * Conformance of ARM's generic resource list, `GET /subscriptions/{s}/resources`, as the audit uses it for
 * creation times: `$filter=resourceType eq '…'`, `$expand=createdTime[,changedTime,provisioningState]`, `$top`,
 * nextLinks shaped like the keyvault example of the same operation, and ARM's errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index.js";
import { RESOURCES_API_VERSIONS } from "../resourceList.js";
import { clientFor, startFast } from "./fixture.js";
import type { SimClient, SimResponse } from "./httpsClient.js";

const IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities";
const FILTER = `$filter=${encodeURIComponent(`resourceType eq '${IDENTITY_TYPE}'`)}`;
const ARM_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;

let sim: RunningSimulator;
let client: SimClient;
let subscriptionId: string;

beforeAll(async () => {
  sim = await startFast({ identities: 60, seed: "resource-list", subscriptionsPerTenant: 2, tenants: 2 });
  client = clientFor(sim);
  subscriptionId = sim.tenants[0]!.subscriptions[0]!;
});

afterAll(async () => {
  client.close();
  await sim.close();
});

const list = (query: string, sub = subscriptionId): Promise<SimResponse> => client.get(`/subscriptions/${sub}/resources?${query}`);
const identitiesOf = (sub: string) => sim.truth.tenants[0]!.identities.filter((i) => i.subscriptionId === sub);

async function listAll(first: string): Promise<{ items: Record<string, unknown>[]; pages: SimResponse[] }> {
  const pages: SimResponse[] = [];
  let response = await client.get(first);
  for (;;) {
    expect(response.status, response.text).toBe(200);
    pages.push(response);
    if (!("nextLink" in response.body)) break;
    response = await client.get(response.body.nextLink as string);
  }
  return { items: pages.flatMap((p) => p.body.value as Record<string, unknown>[]), pages };
}

describe("resource list: identities with their creation times", () => {
  it("lists the subscription's identities, createdTime being the ground truth's createdAt", async () => {
    const response = await list(`${FILTER}&$expand=createdTime&api-version=2021-04-01`);
    expect(response.status).toBe(200);
    expect(Object.keys(response.body)).toEqual(["value"]);
    const expected = identitiesOf(subscriptionId);
    expect(response.body.value.map((i: { id: string }) => i.id)).toEqual(expected.map((i) => i.id));
    for (const [k, item] of (response.body.value as Record<string, unknown>[]).entries()) {
      const truth = expected[k]!;
      const tags = Object.keys(truth.tags).length > 0 ? ["tags"] : [];
      expect(Object.keys(item)).toEqual(["id", "name", "type", "location", ...tags, "createdTime"]);
      expect(item).toMatchObject({ id: truth.id, name: truth.name, type: IDENTITY_TYPE, location: truth.location, createdTime: truth.createdAt });
      if (tags.length > 0) expect(item.tags).toEqual(truth.tags);
    }
    expect(response.headers["x-ms-ratelimit-remaining-subscription-reads"]).toMatch(/^\d+$/);
    expect(sim.requestLog().at(-1)?.operation).toBe("listResources");
  });

  it("expands changedTime and provisioningState on request, and nothing without $expand", async () => {
    const response = await list(`${FILTER}&$expand=createdTime,changedTime,provisioningState&api-version=2021-04-01`);
    for (const item of response.body.value as Record<string, string>[]) {
      expect(item.createdTime).toMatch(ARM_TIME);
      expect(item.changedTime).toMatch(ARM_TIME);
      expect(Date.parse(item.changedTime!)).toBeGreaterThanOrEqual(Date.parse(item.createdTime!));
      expect(item.provisioningState).toBe("Succeeded");
    }
    const plain = await list(`${FILTER}&api-version=2021-04-01`);
    for (const item of plain.body.value as Record<string, unknown>[]) {
      expect(item).not.toHaveProperty("createdTime");
      expect(item).not.toHaveProperty("changedTime");
    }
    const casing = await list(`$filter=${encodeURIComponent("resourcetype EQ 'microsoft.managedidentity/USERASSIGNEDIDENTITIES'")}&$expand=CreatedTime&api-version=2022-09-01`);
    expect(casing.body.value.map((i: { createdTime: string }) => i.createdTime)).toEqual(identitiesOf(subscriptionId).map((i) => i.createdAt));
  });

  it("pages by $top with nextLinks shaped like ARM's, uneven pages included, without gaps or duplicates", async () => {
    const first = `/subscriptions/${subscriptionId}/resources?${FILTER}&$expand=createdTime&$top=7&api-version=2021-04-01`;
    const { items, pages } = await listAll(first);
    expect(items.map((i) => i.id)).toEqual(identitiesOf(subscriptionId).map((i) => i.id));
    expect(pages.length).toBeGreaterThan(4);
    expect(pages.slice(0, 3).map((p) => p.body.value.length)).toEqual([7, 7, 7]);
    expect(pages[3]!.body.value.length).toBe(2);
    const link = pages[0]!.body.nextLink as string;
    expect(link.startsWith(
      `${sim.endpoint}/subscriptions/${subscriptionId}/resources?%24filter=resourceType+eq+%27Microsoft.ManagedIdentity%2fuserAssignedIdentities%27&%24expand=createdTime&%24top=7&api-version=2021-04-01&%24skiptoken=`,
    )).toBe(true);
    const token = decodeURIComponent(link.split("%24skiptoken=")[1]!);
    expect(Object.keys(JSON.parse(Buffer.from(token, "base64").toString("utf8")))).toEqual(["nextPartitionKey", "nextRowKey"]);
    expect("nextLink" in pages.at(-1)!.body).toBe(false);
  });

  it("serves 1000 items a page by default", async () => {
    const big = await startFast({ identities: 1500, seed: "resource-list-big", subscriptionsPerTenant: 1 });
    const bigClient = clientFor(big);
    try {
      const sub = big.tenants[0]!.subscriptions[0]!;
      const response = await bigClient.get(`/subscriptions/${sub}/resources?${FILTER}&$expand=createdTime&api-version=2021-04-01`);
      expect(response.body.value).toHaveLength(1000);
      const second = await bigClient.get(response.body.nextLink as string);
      expect(second.body.value).toHaveLength(500);
      expect("nextLink" in second.body).toBe(false);
    } finally {
      bigClient.close();
      await big.close();
    }
  });

  it("leaves deleted identities out", async () => {
    const other = await startFast({ identities: 20, seed: "resource-list-delete", subscriptionsPerTenant: 1 });
    const otherClient = clientFor(other);
    try {
      const victim = other.truth.tenants[0]!.identities[5]!;
      other.deleteIdentity(victim.id);
      const response = await otherClient.get(`/subscriptions/${victim.subscriptionId}/resources?${FILTER}&$expand=createdTime&api-version=2021-04-01`);
      expect(response.body.value).toHaveLength(19);
      expect(response.body.value.some((i: { id: string }) => i.id === victim.id)).toBe(false);
    } finally {
      otherClient.close();
      await other.close();
    }
  });

  it("without a filter lists every resource of the subscription in provider casing, policy assignments aside", async () => {
    const { items } = await listAll(`/subscriptions/${subscriptionId}/resources?$expand=createdTime&api-version=2021-04-01`);
    const ids = new Set(items.map((i) => String(i.id)));
    for (const identity of identitiesOf(subscriptionId)) expect(ids.has(identity.id)).toBe(true);
    const types = new Set(items.map((i) => String(i.type)));
    expect(types.has("Microsoft.Compute/virtualMachines")).toBe(true);
    expect(types.has("Microsoft.Web/sites")).toBe(true);
    expect([...types].some((t) => t.includes("policyAssignments"))).toBe(false);
    for (const item of items) {
      expect(item.type).not.toBe(String(item.type).toLowerCase());
      expect(String(item.id).toLowerCase()).toContain(`/providers/${String(item.type).toLowerCase().split("/")[0]}/`);
      expect(item.createdTime).toMatch(ARM_TIME);
    }
    const vms = await listAll(`/subscriptions/${subscriptionId}/resources?$filter=${encodeURIComponent("resourceType eq 'Microsoft.Compute/virtualMachines'")}&api-version=2021-04-01`);
    expect(vms.items.length).toBe(items.filter((i) => i.type === "Microsoft.Compute/virtualMachines").length);
  });
});

describe("resource list: errors", () => {
  it("answers any other $filter with 400 InvalidFilterInQueryString, as ARM", async () => {
    for (const filter of ["name eq 'x'", "resourceType ne 'Microsoft.Web/sites'", "substringof('a', name)", `resourceType eq '${IDENTITY_TYPE}' and location eq 'eastus'`]) {
      const response = await list(`$filter=${encodeURIComponent(filter)}&api-version=2021-04-01`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { code: "InvalidFilterInQueryString", message: `Invalid $filter '${filter}' specified in the query string.` } });
    }
  });

  it("checks the api-version against Microsoft.Resources' list, then the subscription", async () => {
    const bad = await list(`${FILTER}&api-version=2023-01-31`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("InvalidApiVersionParameter");
    expect(bad.body.error.message).toBe(`The api-version '2023-01-31' is invalid. The supported versions are '${RESOURCES_API_VERSIONS.join(",")}'.`);
    expect((await list(FILTER)).body.error.code).toBe("MissingApiVersionParameter");
    expect((await list(`${FILTER}&api-version=2021-04-01`, "00000000-0000-0000-0000-000000000000")).status).toBe(404);
    const foreign = await list(`${FILTER}&api-version=2021-04-01`, sim.tenants[1]!.subscriptions[0]!);
    expect(foreign.status).toBe(401);
    expect(foreign.body.error.code).toBe("InvalidAuthenticationTokenTenant");
    for (const query of ["$top=0", "$top=x", "$expand=createdTime,color", "$skiptoken=nonsense"]) {
      const response = await list(`${FILTER}&${query}&api-version=2021-04-01`);
      expect(response.status, query).toBe(400);
    }
    expect((await client.post(`/subscriptions/${subscriptionId}/resources?api-version=2021-04-01`)).status).toBe(405);
  });

  it("is subject to injected faults like the other ARM reads", async () => {
    sim.setFaults({ errorRate: 1, operations: ["listResources"] });
    try {
      const response = await list(`${FILTER}&api-version=2021-04-01`);
      expect([500, 503]).toContain(response.status);
    } finally {
      sim.setFaults({});
    }
  });
});
