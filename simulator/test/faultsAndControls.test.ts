/**
 * Fault injection, the mutations between phases, and the request log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index.js";
import { clientFor, GET_API, listUrl, pathOf, startFast } from "./fixture.js";
import { SimClient } from "./httpsClient.js";

let sim: RunningSimulator;
let client: SimClient;

beforeAll(async () => {
  sim = await startFast({ identities: 40, seed: "faults", tenants: 2 });
  client = clientFor(sim);
});

afterAll(async () => {
  client.close();
  await sim.close();
});

afterEach(() => {
  sim.setFaults({});
});

const identity = (k: number, tenant = 0) => sim.truth.tenants[tenant]!.identities[k]!;
const getUrl = (k: number) => `${pathOf(identity(k))}?api-version=${GET_API}`;

describe("faults", () => {
  it("answers 500 or 503 CloudErrors at errorRate 1, on ARM operations but not Resource Graph by default", async () => {
    sim.setFaults({ errorRate: 1 });
    const statuses = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const response = await client.get(getUrl(1));
      statuses.add(response.status);
      expect(["InternalServerError", "ServiceUnavailable"]).toContain(response.body.error.code);
    }
    expect([...statuses].sort()).toEqual([500, 503]);
    const list = await client.post(listUrl(identity(1)));
    expect([500, 503]).toContain(list.status);
    const graph = await client.post("/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01", { body: { query: "resources | count" } });
    expect(graph.status).toBe(200);
  });

  it("applies faults only to the listed operations", async () => {
    sim.setFaults({ errorRate: 1, operations: ["resourceGraph"] });
    expect((await client.get(getUrl(2))).status).toBe(200);
    const graph = await client.post("/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01", { body: { query: "resources | count" } });
    expect([500, 503]).toContain(graph.status);
  });

  it("drops connections at dropRate 1 and logs them with status 0", async () => {
    sim.setFaults({ dropRate: 1 });
    sim.clearRequestLog();
    const dropper = clientFor(sim);
    await expect(dropper.get(getUrl(3))).rejects.toThrow(/socket hang up|ECONNRESET/);
    dropper.close();
    const entry = sim.requestLog().find((e) => e.operation === "getIdentity")!;
    expect(entry.status).toBe(0);
  });

  it("adds latency", async () => {
    sim.setFaults({ latencyMs: 300 });
    const started = Date.now();
    expect((await client.get(getUrl(4))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("validates fault options", () => {
    expect(() => sim.setFaults({ errorRate: 2 })).toThrow(/errorRate/);
    expect(() => sim.setFaults({ operations: ["nope" as never] })).toThrow(/operations/);
  });

  it("fails one identity on every operation until cleared", async () => {
    const target = identity(5);
    sim.failIdentity(target.id.toUpperCase(), 500);
    expect((await client.get(getUrl(5))).status).toBe(500);
    expect((await client.post(listUrl(target))).status).toBe(500);
    expect((await client.get(`${pathOf(target)}/federatedIdentityCredentials?api-version=${GET_API}`)).status).toBe(500);
    expect((await client.get(getUrl(6))).status).toBe(200);
    sim.failIdentity(target.id, 403);
    const forbidden = await client.get(getUrl(5));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe("AuthorizationFailed");
    sim.failIdentity(target.id, 200);
    expect((await client.get(getUrl(5))).status).toBe(200);
  });
});

describe("mutations between phases", () => {
  it("deleteIdentity: 404 everywhere, gone from the truth", async () => {
    const victim = identity(10, 1);
    const other = clientFor(sim, 1);
    try {
      sim.deleteIdentity(victim.id);
      const get = await other.get(`${pathOf(victim)}?api-version=${GET_API}`);
      expect(get.status).toBe(404);
      expect(get.body.error.code).toBe("ResourceNotFound");
      expect((await other.post(listUrl(victim))).status).toBe(404);
      expect((await other.get(`${pathOf(victim)}/federatedIdentityCredentials?api-version=${GET_API}`)).status).toBe(404);
      expect(sim.truth.identity(victim.id)).toBeUndefined();
      expect(sim.truth.tenants[1]!.identities).not.toContain(victim);
      expect(sim.truth.deletedIdentities().map((i) => i.id)).toContain(victim.id);
      expect(() => sim.deleteIdentity(victim.id)).toThrow(RangeError);
    } finally {
      other.close();
    }
  });

  it("addAssociation and removeAssociations change the answers and the truth", async () => {
    const target = sim.truth.tenants[0]!.unusedIdentities()[0]!;
    const added = sim.addAssociation(target.id, { name: "vm-late-arrival", type: "Microsoft.Compute/virtualMachines" });
    expect(added).toMatchObject({ name: "vm-late-arrival", type: "microsoft.compute/virtualmachines", subscriptionId: target.subscriptionId });
    expect(added.id).toBe(`/subscriptions/${target.subscriptionId}/resourceGroups/${target.resourceGroupName}/providers/Microsoft.Compute/virtualMachines/vm-late-arrival`);
    const second = sim.addAssociation(target.id);
    expect(target.associationCount).toBe(2);
    const listed = await client.post(listUrl(target));
    expect(listed.body).toEqual({ totalCount: 2, value: [added, second] });

    sim.removeAssociations(target.id, 1);
    expect(sim.truth.associationsOf(target.id)).toEqual([added]);
    sim.removeAssociations(target.id);
    expect(target.associationCount).toBe(0);
    expect((await client.post(listUrl(target))).text).toBe('{"totalCount":0,"value":[]}');

    const used = identity(20);
    const before = used.associationCount;
    sim.removeAssociations(used.id, 1);
    expect(used.associationCount).toBe(Math.max(0, before - 1));
    expect((await client.post(listUrl(used, "$top=0"))).body.totalCount).toBe(used.associationCount);
  });

  it("rejects controls on unknown identities", () => {
    expect(() => sim.addAssociation("/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/z")).toThrow(RangeError);
    expect(() => sim.failIdentity("not an id", 500)).toThrow(TypeError);
  });
});

describe("request log", () => {
  it("records every request with arrival time, tenant, operation, status and identity", async () => {
    sim.clearRequestLog();
    const before = Date.now();
    await client.get(getUrl(7));
    await client.post(listUrl(identity(7), "$top=0"));
    await client.get(getUrl(7), { token: null });
    const log = sim.requestLog();
    expect(log.map((e) => [e.operation, e.method, e.status])).toEqual([
      ["getIdentity", "GET", 200],
      ["listAssociatedResources", "POST", 200],
      ["getIdentity", "GET", 401],
    ]);
    expect(log[0]!.tenantId).toBe(sim.tenants[0]!.tenantId);
    expect(log[2]!.tenantId).toBeUndefined();
    expect(log[0]!.identityId).toBe(identity(7).id);
    expect(log[0]!.at).toBeGreaterThanOrEqual(before);
    expect(log[1]!.path).toContain("/listAssociatedResources?api-version=");
  });
});

