/**
 * Resource Graph through @azure/arm-resourcegraph 5.0.0 against a local HTTPS server: paging, table results,
 * quota pacing, 429 and 5xx retries, scope batching, and the typed inventory and role queries.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ArmError, isThrottled } from "../../src/arm/errors.js";
import { createArmConnection, type ArmConnection } from "../../src/arm/connection.js";
import {
  listIdentities,
  listRoleAssignments,
  queryResourceGraph,
  type InvalidRow,
  type ResourceGraphOptions,
  type ResourceGraphWait,
} from "../../src/arm/resourceGraph.js";
import type { AuditScope, IdentityInventoryItem } from "../../src/arm/types.js";
import { example, paths } from "./support/fixtures.js";
import { startTestServer, type RecordedRequest, type Reply, type TestServer } from "./support/testServer.js";

const TOKEN = "arg-token-0f4d8c2b9e";
const TENANT: AuditScope = { subscriptions: [], managementGroups: [] };
const SUBSCRIPTION: AuditScope = { subscriptions: ["cfbbd179-59d2-4052-aa06-9270a38aa9d6"], managementGroups: [] };

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

/** A fresh connection per test: the quota gate is per connection. */
function connect(): ArmConnection {
  return createArmConnection({ endpoint: server.endpoint, token: TOKEN, ca: server.ca });
}

function serve(...replies: Reply[]): void {
  server.setHandler((_req, i) => replies[Math.min(i, replies.length - 1)] ?? { status: 500 });
}

interface SentQuery {
  subscriptions?: string[];
  managementGroups?: string[];
  query: string;
  options?: Record<string, unknown>;
}

function sent(req: RecordedRequest | undefined): SentQuery {
  if (!req) throw new Error("no request");
  return JSON.parse(req.body) as SentQuery;
}

async function rowsOf(
  conn: ArmConnection,
  scope: AuditScope = SUBSCRIPTION,
  options: ResourceGraphOptions = {},
  query = "Resources | project id, name | order by id asc",
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const page of queryResourceGraph(conn, query, scope, options)) rows.push(...page);
  return rows;
}

function page(data: unknown[], skipToken?: string, headers: Record<string, string> = {}): Reply {
  return {
    headers: { "x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05", ...headers },
    body: { totalRecords: data.length, count: data.length, resultTruncated: "false", data, ...(skipToken ? { $skipToken: skipToken } : {}) },
  };
}

const firstPage = example(paths.argFirstPage);
const nextPage = example(paths.argNextPage);
const tablePage = example(paths.argTable);
const bodyOf = (ex: typeof firstPage): object => ex.responses["200"]?.body as object;

describe("queryResourceGraph paging", () => {
  it("POSTs the SDK's request and follows $skipToken with the same query and scopes", async () => {
    const lastPage = page([{ id: "/subscriptions/x/last", name: "last" }]);
    serve({ body: bodyOf(firstPage) }, { body: bodyOf(nextPage) }, lastPage);
    const conn = connect();
    const rows = await rowsOf(conn, SUBSCRIPTION, { pageSize: 3 });
    expect(rows).toHaveLength(7);
    expect(server.requests).toHaveLength(3);

    const [r1, r2, r3] = server.requests;
    expect(r1?.method).toBe("POST");
    expect(r1?.url).toBe("/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01");
    expect(r1?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent(r1)).toEqual({
      subscriptions: SUBSCRIPTION.subscriptions,
      query: "Resources | project id, name | order by id asc",
      options: { $top: 3, resultFormat: "objectArray" },
    });
    const token1 = (firstPage.responses["200"]?.body as { $skipToken: string }).$skipToken;
    const token2 = (nextPage.responses["200"]?.body as { $skipToken: string }).$skipToken;
    expect(sent(r2)).toEqual({ ...sent(r1), options: { ...sent(r1).options, $skipToken: token1 } });
    expect(sent(r3).options?.$skipToken).toBe(token2);
  });

  it("converts table results to objects", async () => {
    serve({ body: bodyOf(tablePage) }, page([]));
    const rows = await rowsOf(connect());
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0] ?? {})).toEqual(["id", "name", "type", "location"]);
    expect(rows[1]).toMatchObject({ name: "TestAA", type: "microsoft.automation/automationaccounts", location: "westcentralus" });
  });

  it("queries the whole tenant when the scope is empty, and management groups by name", async () => {
    serve(page([]));
    await rowsOf(connect(), TENANT);
    expect(sent(server.requests[0])).not.toHaveProperty("subscriptions");
    expect(sent(server.requests[0])).not.toHaveProperty("managementGroups");
    server.requests.length = 0;
    await rowsOf(connect(), { subscriptions: [], managementGroups: ["mg1", "mg2"] });
    expect(sent(server.requests[0]).managementGroups).toEqual(["mg1", "mg2"]);
  });

  it("batches 2500 subscriptions into 3 requests of at most 1000", async () => {
    serve(page([{ id: "/x" }]));
    const subscriptions = Array.from({ length: 2500 }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, "0")}`);
    const rows = await rowsOf(connect(), { subscriptions, managementGroups: [] }, { subscriptionBatchSize: 1000 });
    expect(server.requests.map((r) => sent(r).subscriptions?.length)).toEqual([1000, 1000, 500]);
    expect(server.requests.flatMap((r) => sent(r).subscriptions)).toEqual(subscriptions);
    expect(rows).toHaveLength(3);
  });

  it("batches subscriptions and management groups with a small batch size", async () => {
    serve(page([]));
    await rowsOf(connect(), { subscriptions: ["a", "b", "c"], managementGroups: ["m1", "m2", "m3"] }, { subscriptionBatchSize: 2 });
    expect(server.requests.map((r) => sent(r))).toMatchObject([
      { subscriptions: ["a", "b"] },
      { subscriptions: ["c"] },
      { managementGroups: ["m1", "m2"] },
      { managementGroups: ["m3"] },
    ]);
  });

  it.each([
    [{ pageSize: 0 }, /pageSize/],
    [{ pageSize: 1001 }, /pageSize/],
    [{ subscriptionBatchSize: 1001 }, /subscriptionBatchSize/],
    [{ maxRetries: -1 }, /maxRetries/],
  ])("rejects options %j with a TypeError naming the option", async (options, name) => {
    await expect(rowsOf(connect(), SUBSCRIPTION, options as ResourceGraphOptions)).rejects.toThrow(TypeError);
    await expect(rowsOf(connect(), SUBSCRIPTION, options as ResourceGraphOptions)).rejects.toThrow(name);
    expect(server.requests).toHaveLength(0);
  });

  it("fails on a truncated result that gives no $skipToken", async () => {
    serve({ body: { totalRecords: 5000, count: 1000, resultTruncated: "true", data: [{ id: "/x" }] } });
    await expect(rowsOf(connect())).rejects.toMatchObject({ code: "ResultTruncated" });
  });

  it("reports a malformed 200 clearly", async () => {
    serve({ headers: { "content-type": "text/html" }, body: "<html>proxy</html>" });
    const error = (await rowsOf(connect()).catch((e: unknown) => e)) as ArmError;
    expect(error).toBeInstanceOf(ArmError);
    expect(error.code).toBe("MalformedResponse");
    expect(error.message).toContain("<html>proxy</html>");
  });
});

describe("quota pacing and retries", () => {
  it("waits for the quota to reset before the next request when x-ms-user-quota-remaining is 0", async () => {
    serve(page([{ id: "/a" }], "next", { "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:01" }), page([{ id: "/b" }]));
    const waits: ResourceGraphWait[] = [];
    const rows = await rowsOf(connect(), SUBSCRIPTION, { onWait: (w) => waits.push(w) });
    expect(rows).toHaveLength(2);
    const [r1, r2] = server.requests;
    expect((r2?.at ?? 0) - (r1?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(waits).toHaveLength(1);
    expect(waits[0]?.reason).toBe("quota");
  });

  it("does not wait while quota remains", async () => {
    serve(page([{ id: "/a" }], "next"), page([{ id: "/b" }]));
    const waits: ResourceGraphWait[] = [];
    await rowsOf(connect(), SUBSCRIPTION, { onWait: (w) => waits.push(w) });
    expect(waits).toEqual([]);
  });

  it("retries a 429 after the quota resets (x-ms-user-quota-resets-after)", async () => {
    serve(
      {
        status: 429,
        headers: { "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:01" },
        body: {
          error: {
            code: "RateLimiting",
            message: "Please provide below info when asking for support: timestamp = 2021-04-26T10:48:10.5155431Z, correlationId = 5b4f2a4e.",
            details: [{ code: "RateLimiting", message: "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help." }],
          },
        },
      },
      page([{ id: "/a" }]),
    );
    const waits: ResourceGraphWait[] = [];
    const rows = await rowsOf(connect(), SUBSCRIPTION, { onWait: (w) => waits.push(w) });
    expect(rows).toEqual([{ id: "/a" }]);
    expect(server.requests).toHaveLength(2);
    expect((server.requests[1]?.at ?? 0) - (server.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(waits.map((w) => w.reason)).toEqual(["throttled"]);
    expect(waits[0]?.attempt).toBe(2);
  });

  it("retries a 429 after Retry-After", async () => {
    serve({ status: 429, headers: { "retry-after": "1" }, body: "" }, page([{ id: "/a" }]));
    await rowsOf(connect());
    expect((server.requests[1]?.at ?? 0) - (server.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it("gives up after maxRetries and throws the 429 with its wait", async () => {
    serve({ status: 429, headers: { "x-ms-user-quota-resets-after": "00:00:00.2" }, body: { error: { code: "RateLimiting", message: "throttled" } } });
    const error = (await rowsOf(connect(), SUBSCRIPTION, { maxRetries: 2 }).catch((e: unknown) => e)) as ArmError;
    expect(isThrottled(error)).toBe(true);
    expect(error.code).toBe("RateLimiting");
    expect(error.retryAfterMs).toBe(200);
    expect(server.requests).toHaveLength(3);
  });

  it("throws instead of waiting longer than maxWaitMs", async () => {
    serve({ status: 429, headers: { "x-ms-user-quota-resets-after": "00:05:00" }, body: "" });
    const error = (await rowsOf(connect(), SUBSCRIPTION, { maxWaitMs: 1000 }).catch((e: unknown) => e)) as ArmError;
    expect(isThrottled(error)).toBe(true);
    expect(error.retryAfterMs).toBe(300_000);
    expect(server.requests).toHaveLength(1);
  });

  it("retries transient 5xx with backoff, bounded", async () => {
    serve({ status: 503, body: "" }, { status: 500, body: { error: { code: "InternalServerError", message: "boom" } } }, page([{ id: "/a" }]));
    const waits: ResourceGraphWait[] = [];
    const rows = await rowsOf(connect(), SUBSCRIPTION, { retryDelayMs: 10, onWait: (w) => waits.push(w) });
    expect(rows).toHaveLength(1);
    expect(waits.map((w) => w.reason)).toEqual(["transient", "transient"]);
    server.requests.length = 0;
    serve({ status: 502, body: "" });
    await expect(rowsOf(connect(), SUBSCRIPTION, { retryDelayMs: 1, maxRetries: 2 })).rejects.toMatchObject({ status: 502 });
    expect(server.requests).toHaveLength(3);
  });

  it("does not retry a 400 and reports ARG's ErrorResponse", async () => {
    serve({
      status: 400,
      body: { error: { code: "BadRequest", message: "Please provide below info when asking for support", details: [{ code: "InvalidQuery", message: "Query is invalid." }] } },
    });
    const error = (await rowsOf(connect()).catch((e: unknown) => e)) as ArmError;
    expect(error.code).toBe("BadRequest");
    expect(error.details).toEqual([{ code: "InvalidQuery", message: "Query is invalid." }]);
    expect(error.message).toContain("InvalidQuery: Query is invalid.");
    expect(error.message).not.toContain(TOKEN);
    expect(server.requests).toHaveLength(1);
  });
});

describe("listIdentities", () => {
  const row = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: `/subscriptions/s1/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/${name}`,
    name,
    subscriptionId: "s1",
    resourceGroup: "rg",
    location: "westeurope",
    tenantId: "t1",
    principalId: `p-${name}`,
    clientId: `c-${name}`,
    tags: { owner: "team" },
    ...extra,
  });

  async function identities(scope: AuditScope, options = {}): Promise<IdentityInventoryItem[]> {
    const out: IdentityInventoryItem[] = [];
    for await (const items of listIdentities(connect(), scope, options)) out.push(...items);
    return out;
  }

  it("sends the inventory query and yields typed items (tags default to {})", async () => {
    serve(page([row("a"), row("b", { tags: null })]));
    const items = await identities(SUBSCRIPTION);
    expect(sent(server.requests[0]).query).toContain("microsoft.managedidentity/userassignedidentities");
    expect(items.map((i) => i.name)).toEqual(["a", "b"]);
    expect(items[0]).toEqual({ ...row("a") });
    expect(items[1]?.tags).toEqual({});
  });

  it("de-duplicates an identity returned by two scope batches, whatever the id casing", async () => {
    server.setHandler((req) => {
      const body = sent(req);
      return body.managementGroups ? page([row("a", { id: String(row("a").id).toUpperCase() }), row("b")]) : page([row("a")]);
    });
    const items = await identities({ subscriptions: ["s1"], managementGroups: ["mg"] });
    expect(items.map((i) => i.name)).toEqual(["a", "b"]);
  });

  it("throws a clear error on a malformed row, or skips and reports it when asked", async () => {
    serve(page([row("a"), row("b", { principalId: null })]));
    await expect(identities(SUBSCRIPTION)).rejects.toThrow(/userassignedidentities\/b.*"principalId"/);
    const invalid: InvalidRow[] = [];
    const items = await identities(SUBSCRIPTION, { onInvalidRow: (r: InvalidRow) => invalid.push(r) });
    expect(items.map((i) => i.name)).toEqual(["a"]);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.reason).toContain("principalId");
  });
});

describe("listRoleAssignments", () => {
  const builtIn = "/providers/microsoft.authorization/roledefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
  const custom = "/subscriptions/s1/providers/microsoft.authorization/roledefinitions/11111111-2222-3333-4444-555555555555";
  const definitions = [
    { id: builtIn, roleName: "Owner", permissions: [{ actions: ["*"], notActions: [] }] },
    { id: custom, roleName: "Reader of things", permissions: [{ actions: ["*/read"], notActions: [] }] },
  ];
  const assignment = (n: number, roleDefinitionId: string): Record<string, unknown> => ({
    id: `/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/ra${n}`,
    principalId: `p${n}`,
    roleDefinitionId,
    scope: "/subscriptions/s1",
  });

  it("joins assignments to definitions by id or GUID, flags wildcards, names unknown roles by GUID", async () => {
    server.setHandler((req) =>
      sent(req).query.includes("roledefinitions")
        ? page(definitions)
        : page([
            // Assignments name built-in roles by their subscription-scoped id (not the tenant-level one).
            assignment(1, "/subscriptions/s1/providers/microsoft.authorization/roledefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
            assignment(2, custom),
            assignment(3, "/subscriptions/s1/providers/microsoft.authorization/roledefinitions/99999999-0000-0000-0000-000000000000"),
          ]),
    );
    const assignments = await listRoleAssignments(connect(), SUBSCRIPTION);
    expect(assignments.map((a) => [a.principalId, a.roleName, a.wildcardActions])).toEqual([
      ["p1", "Owner", true],
      ["p2", "Reader of things", false],
      ["p3", "99999999-0000-0000-0000-000000000000", false],
    ]);
    expect(assignments[0]?.scope).toBe("/subscriptions/s1");
    // Definitions at tenant scope (no subscriptions, no management groups, no filter relative to them);
    // assignments over the run's scope, with those above it (management groups, root).
    const [definitionsRequest, assignmentsRequest] = server.requests.map(sent);
    expect(definitionsRequest?.query).toContain("microsoft.authorization/roledefinitions");
    expect(definitionsRequest).not.toHaveProperty("subscriptions");
    expect(definitionsRequest).not.toHaveProperty("managementGroups");
    expect(definitionsRequest?.options?.authorizationScopeFilter).toBeUndefined();
    expect(assignmentsRequest?.query).toContain("microsoft.authorization/roleassignments");
    expect(assignmentsRequest?.subscriptions).toEqual(SUBSCRIPTION.subscriptions);
    expect(assignmentsRequest?.options?.authorizationScopeFilter).toBe("AtScopeAboveAndBelow");
  });

  it("reads definitions at tenant scope for a management-group run too, and lets the caller choose the assignments' filter", async () => {
    server.setHandler((req) => (sent(req).query.includes("roledefinitions") ? page(definitions) : page([assignment(1, builtIn)])));
    await listRoleAssignments(connect(), { subscriptions: [], managementGroups: ["contoso-platform"] }, { authorizationScopeFilter: "AtScopeExact" });
    const [definitionsRequest, assignmentsRequest] = server.requests.map(sent);
    expect(definitionsRequest).not.toHaveProperty("managementGroups");
    expect(definitionsRequest?.options?.authorizationScopeFilter).toBeUndefined();
    expect(assignmentsRequest?.managementGroups).toEqual(["contoso-platform"]);
    expect(assignmentsRequest?.options?.authorizationScopeFilter).toBe("AtScopeExact");
  });

  it("accepts permissions as JSON text (table results)", async () => {
    server.setHandler((req) =>
      sent(req).query.includes("roledefinitions")
        ? { body: { totalRecords: 1, count: 1, resultTruncated: "false", data: { columns: [{ name: "id", type: "string" }, { name: "roleName", type: "string" }, { name: "permissions", type: "object" }], rows: [[builtIn, "Owner", JSON.stringify([{ actions: ["*"] }])]] } } }
        : page([assignment(1, builtIn)]),
    );
    const [only] = await listRoleAssignments(connect(), TENANT);
    expect(only).toMatchObject({ roleName: "Owner", wildcardActions: true });
  });
});
