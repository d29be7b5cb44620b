/**
 * Conformance of `POST /providers/Microsoft.ResourceGraph/resources`: both result formats, paging by
 * $skipToken, limit/take truncation, scopes, the per-user quota, errors, and the real SDK as a client.
 */
import { ResourceGraphClient, type ResourceGraphClientOptionalParams } from "@azure/arm-resourcegraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index.js";
import { startSimulator } from "../index.js";
import { ARG_PATH, clientFor, startFast } from "./fixture.js";
import { SimClient, type SimResponse } from "./httpsClient.js";

const IDENTITY_TYPE = "microsoft.managedidentity/userassignedidentities";
const IDENTITIES = `resources | where type =~ '${IDENTITY_TYPE}' | project id, name, type, tenantId, location, resourceGroup, subscriptionId, properties, tags`;

let sim: RunningSimulator;
let client: SimClient;

beforeAll(async () => {
  sim = await startFast({ identities: 2500, seed: "arg-conformance", tenants: 2 });
  client = clientFor(sim);
});

afterAll(async () => {
  client.close();
  await sim.close();
});

const query = (body: unknown, c: SimClient = client, path = ARG_PATH): Promise<SimResponse> => c.post(path, { body });

async function allPages(body: { query: string; options?: Record<string, unknown>; subscriptions?: string[]; managementGroups?: string[] }) {
  const rows: Record<string, unknown>[] = [];
  const tokens: string[] = [];
  let response = await query(body);
  for (;;) {
    expect(response.status).toBe(200);
    rows.push(...(response.body.data as Record<string, unknown>[]));
    const token = response.body.$skipToken as string | undefined;
    if (!token) break;
    tokens.push(token);
    response = await query({ ...body, options: { ...body.options, $skipToken: token } });
  }
  return { rows, tokens, last: response };
}

describe("Resource Graph: results", () => {
  it("answers in objectArray by default with ARG's envelope", async () => {
    const response = await query({ query: IDENTITIES });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(["$skipToken", "count", "data", "facets", "resultTruncated", "totalRecords"]);
    expect(response.body.totalRecords).toBe(2500);
    expect(response.body.count).toBe(1000);
    expect(response.body.resultTruncated).toBe("false");
    expect(response.body.facets).toEqual([]);
    expect(Array.isArray(response.body.data)).toBe(true);
    expect(Object.keys(response.body.data[0])).toEqual(["id", "name", "type", "tenantId", "location", "resourceGroup", "subscriptionId", "properties", "tags"]);
  });

  it("pages with $skipToken to the end without gaps or duplicates, and the token is stable", async () => {
    const { rows, tokens, last } = await allPages({ query: IDENTITIES });
    expect(tokens).toHaveLength(2);
    expect(last.body.$skipToken).toBeUndefined();
    const ids = rows.map((r) => r.id as string);
    expect(new Set(ids).size).toBe(2500);
    expect(new Set(ids)).toEqual(new Set(sim.truth.tenants[0]!.identities.map((i) => i.id)));
    const again = await query({ query: IDENTITIES });
    expect(again.body.$skipToken).toBe(tokens[0]);
  });

  it("pages with $top, and $top/$skip override the token's page", async () => {
    const ordered = `${IDENTITIES} | order by id asc`;
    const { rows } = await allPages({ query: ordered, options: { $top: 300 } });
    expect(rows).toHaveLength(2500);
    const page = await query({ query: ordered, options: { $top: 5, $skip: 10 } });
    expect(page.body.data.map((r: { id: string }) => r.id)).toEqual(rows.slice(10, 15).map((r) => r.id));
    expect(page.body.count).toBe(5);
    expect(page.body.$skipToken).toBeDefined();
    const overridden = await query({ query: ordered, options: { $skipToken: page.body.$skipToken, $top: 2 } });
    expect(overridden.body.data.map((r: { id: string }) => r.id)).toEqual(rows.slice(15, 17).map((r) => r.id));
  });

  it("answers in table format with columns and rows", async () => {
    const response = await query({ query: `${IDENTITIES} | project id, name, tags | order by id asc`, options: { resultFormat: "table", $top: 3 } });
    expect(response.status).toBe(200);
    expect(response.body.data.columns).toEqual([
      { name: "id", type: "string" },
      { name: "name", type: "string" },
      { name: "tags", type: "object" },
    ]);
    expect(response.body.data.rows).toHaveLength(3);
    expect(response.body.data.rows[0]).toHaveLength(3);
  });

  it("returns no $skipToken for limit/take queries, resultTruncated only when rows were cut", async () => {
    const small = await query({ query: `${IDENTITIES} | limit 3` });
    expect(small.body).toMatchObject({ totalRecords: 3, count: 3, resultTruncated: "false" });
    expect(small.body.$skipToken).toBeUndefined();
    const cut = await query({ query: `${IDENTITIES} | take 1500` });
    expect(cut.body.count).toBe(1000);
    expect(cut.body.resultTruncated).toBe("true");
    expect(cut.body.$skipToken).toBeUndefined();
  });

  it("does not page results whose columns are all dynamic", async () => {
    const response = await query({ query: `resources | where type =~ '${IDENTITY_TYPE}' | project properties, tags` });
    expect(response.body.count).toBe(1000);
    expect(response.body.resultTruncated).toBe("true");
    expect(response.body.$skipToken).toBeUndefined();
  });

  it("lists identities as ARG does: lower-case types and groups, mixed-case ids, hostile names", async () => {
    const { rows } = await allPages({ query: IDENTITIES });
    for (const row of rows) {
      expect(row.type).toBe(IDENTITY_TYPE);
      expect(row.resourceGroup).toBe((row.resourceGroup as string).toLowerCase());
      expect(row.tenantId).toBe(sim.tenants[0]!.tenantId);
      expect((row.properties as { principalId: string }).principalId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const ids = rows.map((r) => r.id as string);
    expect(ids.some((id) => id.includes("/resourcegroups/"))).toBe(true);
    expect(ids.some((id) => id.includes("/resourceGroups/"))).toBe(true);
    const names = new Set(rows.map((r) => r.name));
    for (const hostile of ["0_-", "UAMI-Prod_01", "9to5--__worker", `x${"-_".repeat(63)}9`]) expect(names.has(hostile)).toBe(true);
    expect(rows.some((r) => (r.id as string).includes("rg-é-日本"))).toBe(true);
    const byId = new Map(rows.map((r) => [(r.id as string).toLowerCase(), r]));
    for (const identity of sim.truth.tenants[0]!.identities.slice(0, 50)) {
      const row = byId.get(identity.id.toLowerCase())!;
      expect(row.id).toBe(identity.id);
      expect(row.resourceGroup).toBe(identity.resourceGroup);
      expect((row.tags ?? {}) as object).toEqual(identity.tags);
    }
  });

  it("lists the associated resources too, naming the identity in their identity column", async () => {
    const heavy = [...sim.truth.tenants[0]!.identities].sort((a, b) => b.associationCount - a.associationCount)[0]!;
    const response = await query({ query: `resources | where type !~ '${IDENTITY_TYPE}' | where isnotnull(identity.userAssignedIdentities['${heavy.id}']) | count` });
    expect(response.status).toBe(200);
    const expected = sim.truth.associationsOf(heavy.id).filter((a) => a.type !== "microsoft.authorization/policyassignments").length;
    expect(response.body.data[0].Count).toBe(expected);
  });
});

describe("Resource Graph: scopes", () => {
  const tenant = () => sim.truth.tenants[0]!;

  it("limits rows to the listed subscriptions", async () => {
    const subscriptionId = tenant().subscriptions[1]!.subscriptionId;
    const { rows } = await allPages({ query: `${IDENTITIES} | project id, subscriptionId`, subscriptions: [subscriptionId] });
    expect(rows.length).toBe(tenant().identities.filter((i) => i.subscriptionId === subscriptionId).length);
    expect(rows.every((r) => r.subscriptionId === subscriptionId)).toBe(true);
  });

  it("accepts the tenant root group and a child group", async () => {
    const root = await query({ query: `${IDENTITIES} | count`, managementGroups: [tenant().tenantId] });
    expect(root.body.data[0].Count).toBe(2500);
    const platform = tenant().subscriptions.filter((s) => s.managementGroup === "contoso-platform").map((s) => s.subscriptionId);
    const child = await query({ query: `${IDENTITIES} | count`, managementGroups: ["contoso-platform"] });
    expect(child.body.data[0].Count).toBe(tenant().identities.filter((i) => platform.includes(i.subscriptionId)).length);
  });

  it("refuses another tenant's subscription or an unknown group with 403", async () => {
    const foreign = sim.truth.tenants[1]!.subscriptions[0]!.subscriptionId;
    const response = await query({ query: IDENTITIES, subscriptions: [foreign] });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("AuthorizationFailed");
    const group = await query({ query: IDENTITIES, managementGroups: ["not-a-group"] });
    expect(group.status).toBe(403);
  });

  it("keeps tenants apart when no scope is given", async () => {
    const other = clientFor(sim, 1);
    const { rows } = await (async () => {
      const response = await query({ query: `${IDENTITIES} | project id, tenantId | limit 1000` }, other);
      return { rows: response.body.data as { tenantId: string }[] };
    })();
    other.close();
    expect(rows.every((r) => r.tenantId === sim.tenants[1]!.tenantId)).toBe(true);
  });
});

describe("Resource Graph: authorizationresources", () => {
  it("lists role assignments and definitions, privileged ones included", async () => {
    const assignments = await query({
      query:
        "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | project id, principalId = tostring(properties.principalId), roleDefinitionId = tostring(properties.roleDefinitionId), scope = tostring(properties.scope), principalType = tostring(properties.principalType)",
    });
    expect(assignments.status).toBe(200);
    const truth = sim.truth.tenants[0]!.roleAssignments;
    expect(assignments.body.totalRecords).toBe(truth.length);
    const scopes = (assignments.body.data as { scope: string }[]).map((r) => r.scope);
    expect(scopes.some((s) => s.startsWith("/providers/Microsoft.Management/managementGroups/"))).toBe(true);
    expect(scopes.some((s) => /^\/subscriptions\/[^/]+$/.test(s))).toBe(true);
    expect(scopes.some((s) => /\/resourceGroups\//.test(s))).toBe(true);

    const definitions = await query({
      query: "authorizationresources | where type =~ 'microsoft.authorization/roledefinitions' | project id, roleName = tostring(properties.roleName), roleType = tostring(properties.type), permissions = properties.permissions",
    });
    const roles = definitions.body.data as { roleName: string; roleType: string; permissions: { actions: string[] }[] }[];
    for (const name of ["Owner", "Contributor", "User Access Administrator"]) expect(roles.some((r) => r.roleName === name)).toBe(true);
    const custom = roles.find((r) => r.roleType === "CustomRole")!;
    expect(custom.permissions[0]!.actions).toContain("*");
  });

  it("shows management-group assignments at tenant scope but not below a subscription (AtScopeAndBelow), and above with AtScopeAndAbove", async () => {
    const text = "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | where tostring(properties.scope) startswith '/providers/Microsoft.Management' | count";
    const subscriptionId = sim.truth.tenants[0]!.subscriptions[1]!.subscriptionId;
    const tenantWide = await query({ query: text });
    expect(tenantWide.body.data[0].Count).toBeGreaterThan(0);
    const below = await query({ query: text, subscriptions: [subscriptionId] });
    expect(below.body.data[0].Count).toBe(0);
    const above = await query({ query: text, subscriptions: [subscriptionId], options: { authorizationScopeFilter: "AtScopeAndAbove" } });
    expect(above.body.data[0].Count).toBeGreaterThan(0);
  });
});

describe("Resource Graph: errors", () => {
  it("accepts 2021-03-01 and 2024-04-01 only", async () => {
    expect((await query({ query: IDENTITIES }, client, "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01")).status).toBe(200);
    const old = await query({ query: IDENTITIES }, client, "/providers/Microsoft.ResourceGraph/resources?api-version=2019-04-01");
    expect(old.status).toBe(400);
    expect(old.body.error.code).toBe("InvalidApiVersionParameter");
  });

  it("answers 400 to malformed JSON and to a missing query", async () => {
    const malformed = await client.post(ARG_PATH, { body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("InvalidRequestContent");
    const missing = await query({ options: {} });
    expect(missing.status).toBe(400);
  });

  it("answers ARG's InvalidQuery 400 to a query the engine rejects", async () => {
    const response = await query({ query: "resources | where nosuchcolumn == 1" });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("BadRequest");
    expect(response.body.error.message).toMatch(/^Please provide below info when asking for support: timestamp = .+, correlationId = [0-9a-f-]{36}\.$/);
    expect(response.body.error.details[0]).toEqual({
      code: "InvalidQuery",
      message: "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.",
    });
    expect(response.body.error.details[1].message).toMatch(/nosuchcolumn/);
  });

  it("rejects out-of-range options and a foreign $skipToken", async () => {
    expect((await query({ query: IDENTITIES, options: { $top: 1001 } })).status).toBe(400);
    expect((await query({ query: IDENTITIES, options: { $top: 0 } })).status).toBe(400);
    expect((await query({ query: IDENTITIES, options: { $skip: -1 } })).status).toBe(400);
    expect((await query({ query: IDENTITIES, options: { resultFormat: "csv" } })).status).toBe(400);
    const first = await query({ query: IDENTITIES });
    const foreign = await query({ query: `${IDENTITIES} | project id`, options: { $skipToken: first.body.$skipToken } });
    expect(foreign.status).toBe(400);
  });
});

describe("Resource Graph: mutations", () => {
  it("stops listing a deleted identity", async () => {
    const victim = sim.truth.tenants[0]!.identities[100]!;
    const text = `resources | where type =~ '${IDENTITY_TYPE}' | where name =~ '${victim.name}' | project id`;
    expect((await query({ query: text })).body.count).toBe(1);
    sim.deleteIdentity(victim.id);
    expect((await query({ query: text })).body.count).toBe(0);
    expect(sim.truth.identity(victim.id)).toBeUndefined();
  });
});

describe("Resource Graph: per-user quota", () => {
  it("answers the 16th query within 5 s with 429 RateLimiting, and reports the quota on every answer", async () => {
    const limited = await startSimulator({ identities: 10, seed: "quota", rate: 100 });
    const user = new SimClient(limited.endpoint, limited.ca, limited.tenants[0]!.token);
    const otherUser = new SimClient(limited.endpoint, limited.ca, limited.issueToken(limited.tenants[0]!.tenantId));
    try {
      const remaining: string[] = [];
      for (let i = 0; i < 15; i++) {
        const response = await query({ query: "resources | count" }, user);
        expect(response.status).toBe(200);
        remaining.push(response.headers["x-ms-user-quota-remaining"] as string);
        expect(response.headers["x-ms-user-quota-resets-after"]).toMatch(/^00:00:0[0-5]$/);
      }
      expect(remaining).toEqual(["14", "13", "12", "11", "10", "9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
      const throttled = await query({ query: "resources | count" }, user);
      expect(throttled.status).toBe(429);
      expect(throttled.headers["x-ms-user-quota-remaining"]).toBe("0");
      expect(throttled.headers["x-ms-user-quota-resets-after"]).toMatch(/^00:00:0[0-5]$/);
      expect(Number(throttled.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(throttled.body.error.code).toBe("RateLimiting");
      expect(throttled.body.error.details).toEqual([
        {
          code: "RateLimiting",
          message:
            "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.",
        },
      ]);
      const other = await query({ query: "resources | count" }, otherUser);
      expect(other.status).toBe(200);
      expect(other.headers["x-ms-user-quota-remaining"]).toBe("14");
      const log = limited.requestLog().filter((e) => e.operation === "resourceGraph");
      expect(log.map((e) => e.status)).toEqual([...Array(15).fill(200), 429, 200]);
    } finally {
      user.close();
      otherUser.close();
      await limited.close();
    }
  });
});

describe("Resource Graph: the Azure SDK as a client", () => {
  it("works with @azure/arm-resourcegraph over TLS, paging with skipToken", async () => {
    const token = sim.tenants[0]!.token;
    const sdk = new ResourceGraphClient({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) }, {
      endpoint: sim.endpoint,
      tlsOptions: { ca: sim.ca },
    } satisfies ResourceGraphClientOptionalParams);
    const ids: string[] = [];
    let skipToken: string | undefined;
    do {
      const page = await sdk.resources({ query: `${IDENTITIES} | project id`, options: { top: 1000, ...(skipToken ? { skipToken } : {}) } });
      ids.push(...(page.data as { id: string }[]).map((r) => r.id));
      skipToken = page.skipToken;
    } while (skipToken);
    expect(new Set(ids).size).toBe(sim.truth.tenants[0]!.identities.length);
  });
});
