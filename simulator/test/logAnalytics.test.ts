/**
 * Conformance of the simulated Log Analytics query API (logAnalytics.ts) and of the generated sign-in logs
 * (signIns.ts), over real HTTPS. Shapes and codes follow MicrosoftDocs/azure-monitor-docs,
 * articles/azure-monitor/logs/api/ (request-format.md, response-format.md, errors.md, batch-queries.md).
 */
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index.js";
import { parseDuration, resolveTimespan } from "../logAnalytics.js";
import { clientFor, startFast } from "./fixture.js";
import { SimClient } from "./httpsClient.js";

const DAY_MS = 24 * 60 * 60 * 1000;
const TABLE = "AADManagedIdentitySignInLogs";
const UNKNOWN_WORKSPACE = "9d0c2a53-5b8e-4f55-b0a2-0b1f7c2b6f11";

let sim: RunningSimulator;
let client: SimClient;
let other: SimClient;

const workspace = (tenant = 0): string => sim.tenants[tenant]!.workspaceId;
const queryPath = (tenant = 0): string => `/v1/workspaces/${workspace(tenant)}/query`;

async function query(text: string, timespan?: string, tenant = 0) {
  return client.post(queryPath(tenant), { body: { query: text, ...(timespan !== undefined ? { timespan } : {}) } });
}

/** A POST with a content type of our choosing (SimClient always sends JSON's). */
function rawPost(path: string, body: string, contentType: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.endpoint}${path}`,
      { method: "POST", ca: sim.ca, headers: { authorization: `Bearer ${sim.tenants[0]!.token}`, "content-type": contentType, "content-length": Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The one-column results of a query as plain values. */
function column(body: { tables: { rows: unknown[][] }[] }, index = 0): unknown[] {
  return body.tables[0]!.rows.map((row) => row[index]);
}

beforeAll(async () => {
  sim = await startFast({ identities: 200, seed: "log-analytics", tenants: 2 });
  client = clientFor(sim, 0);
  other = clientFor(sim, 1);
});

afterAll(async () => {
  client?.close();
  other?.close();
  await sim?.close();
});

describe("the workspace of each tenant", () => {
  it("has a GUID workspace id, reported in the tenant info, stable for a seed", async () => {
    expect(workspace(0)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(workspace(1)).not.toBe(workspace(0));
    const again = await startFast({ identities: 200, seed: "log-analytics", tenants: 2 });
    try {
      expect(again.tenants.map((t) => t.workspaceId)).toEqual(sim.tenants.map((t) => t.workspaceId));
      const id = sim.truth.tenants[0]!.identities[3]!.id;
      expect(again.truth.signInsOf(id)).toEqual(sim.truth.signInsOf(id));
    } finally {
      await again.close();
    }
  });
});

describe("POST /v1/workspaces/{id}/query", () => {
  it("answers PrimaryResult with Kusto's column types and datetimes as text", async () => {
    const res = await query(`${TABLE} | where ResultType == "0" | project TimeGenerated, ServicePrincipalId, DurationMs, _BilledSize | take 3`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(["tables"]);
    expect(res.body.tables).toHaveLength(1);
    expect(res.body.tables[0].name).toBe("PrimaryResult");
    expect(res.body.tables[0].columns).toEqual([
      { name: "TimeGenerated", type: "datetime" },
      { name: "ServicePrincipalId", type: "string" },
      { name: "DurationMs", type: "long" },
      { name: "_BilledSize", type: "real" },
    ]);
    expect(res.body.tables[0].rows).toHaveLength(3);
    for (const [time, principal] of res.body.tables[0].rows as [string, string][]) {
      expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
      expect(principal).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("answers a summarize with count() as long", async () => {
    const res = await query(`${TABLE} | summarize n = count() by ResultType`);
    expect(res.body.tables[0].columns).toEqual([
      { name: "ResultType", type: "string" },
      { name: "n", type: "long" },
    ]);
    const total = (res.body.tables[0].rows as [string, number][]).reduce((sum, [, n]) => sum + n, 0);
    const truthTotal = sim.truth.tenants[0]!.identities.reduce((sum, i) => sum + sim.truth.signInsOf(i.id).length, 0);
    expect(total).toBe(truthTotal);
  });

  it("also answers GET with ?query= and ?timespan=, the same as POST", async () => {
    const text = `${TABLE} | summarize n = count()`;
    const get = await client.get(`${queryPath()}?query=${encodeURIComponent(text)}&timespan=P30D`);
    const post = await query(text, "P30D");
    expect(get.status).toBe(200);
    expect(get.body).toEqual(post.body);
  });

  it("filters TimeGenerated by the timespan: durations and intervals", async () => {
    const ids = sim.truth.tenants[0]!.identities.map((i) => i.id);
    const truthCount = (from: number, to = Number.POSITIVE_INFINITY) =>
      ids.flatMap((id) => sim.truth.signInsOf(id)).filter((s) => Date.parse(s.at) >= from && Date.parse(s.at) <= to).length;
    const count = async (timespan?: string) => column((await query(`${TABLE} | count`, timespan)).body)[0] as number;
    const now = Date.now();
    const all = await count();
    const d30 = await count("P30D");
    const d7 = await count("P7D");
    expect(all).toBe(truthCount(Number.NEGATIVE_INFINITY));
    expect(d30).toBe(truthCount(now - 30 * DAY_MS));
    expect(d7).toBe(truthCount(now - 7 * DAY_MS));
    expect(d7).toBeLessThan(d30);
    expect(d30).toBeLessThan(all);
    const from = new Date(now - 20 * DAY_MS).toISOString();
    const to = new Date(now - 10 * DAY_MS).toISOString();
    expect(await count(`${from}/${to}`)).toBe(truthCount(Date.parse(from), Date.parse(to)));
    expect(await count(`${from}/P10D`)).toBe(truthCount(Date.parse(from), Date.parse(from) + 10 * DAY_MS));
  });

  it("refuses a timespan it cannot read", async () => {
    const res = await query(`${TABLE} | count`, "30 days");
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "BadArgumentError", message: "The request had some invalid properties" });
    expect(res.body.error.innererror.details[0]).toMatchObject({ code: "InvalidTimespan", target: "timespan" });
  });

  it("answers a missing table with SEM0100, table names being case-sensitive", async () => {
    for (const table of ["AADServicePrincipalSignInLogs", "aadmanagedidentitysigninlogs"]) {
      const res = await query(`${table} | where ResultType == "0" | count`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: "BadArgumentError",
        message: "The request had some invalid properties",
        innererror: {
          code: "SemanticError",
          message: "A semantic error occurred.",
          innererror: { code: "SEM0100", message: `'where' operator: Failed to resolve table or column expression named '${table}'` },
        },
      });
      expect(res.body.error.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("answers an unknown column with SEM0100 and a syntax error with SyntaxError", async () => {
    const column = await query(`${TABLE} | project ServicePrincipalID`);
    expect(column.status).toBe(400);
    expect(column.body.error.innererror.innererror).toEqual({ code: "SEM0100", message: "'project' operator: Failed to resolve scalar expression named 'ServicePrincipalID'" });
    const syntax = await query(`${TABLE} | where`);
    expect(syntax.status).toBe(400);
    expect(syntax.body.error).toMatchObject({ code: "BadArgumentError", innererror: { code: "SyntaxError" } });
  });

  it("answers a POST without a JSON body or content type with an empty 200 (errors.md)", async () => {
    const noType = await rawPost(queryPath(), JSON.stringify({ query: TABLE }), "text/plain");
    expect(noType).toEqual({ status: 200, text: "" });
    const noBody = await client.post(queryPath());
    expect(noBody.status).toBe(200);
    expect(noBody.text).toBe("");
  });

  it("requires the query", async () => {
    const res = await client.post(queryPath(), { body: { timespan: "P1D" } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("BadArgumentError");
  });
});

describe("authentication and workspaces", () => {
  it("answers 401 without a token and 403 for a token it did not issue", async () => {
    const none = await client.post(queryPath(), { token: null, body: { query: TABLE } });
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." });
    const bad = await client.post(queryPath(), { token: "forged", body: { query: TABLE } });
    expect(bad.status).toBe(403);
    expect(bad.body.error).toMatchObject({ code: "InvalidAuthenticationToken", message: "The access token is invalid." });
  });

  it("accepts any token of the tenant (issueToken too): the simulator has no audiences", async () => {
    const token = sim.issueToken(sim.tenants[0]!.tenantId);
    const res = await client.post(queryPath(), { token, body: { query: `${TABLE} | count` } });
    expect(res.status).toBe(200);
  });

  it("answers another tenant's workspace with 403 InsufficientAccessError", async () => {
    const res = await other.post(queryPath(0), { body: { query: `${TABLE} | count` } });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "InsufficientAccessError", message: "The provided credentials have insufficient access to perform the requested operation" });
  });

  it("answers an unknown or malformed workspace id, and unknown paths, with 404 PathNotFoundError", async () => {
    for (const path of [`/v1/workspaces/${UNKNOWN_WORKSPACE}/query`, "/v1/workspaces/law-security/query", `/v1/workspaces/${workspace()}/metadata`, "/v1/query"]) {
      const res = await client.post(path, { body: { query: TABLE } });
      expect(res.status, path).toBe(404);
      expect(res.body.error).toMatchObject({ code: "PathNotFoundError", message: "The requested path does not exist" });
    }
    const put = await client.send("PUT", queryPath(), { body: { query: TABLE } });
    expect(put.status).toBe(404);
  });

  it("logs the queries with the caller's tenant", async () => {
    sim.clearRequestLog();
    await query(`${TABLE} | count`);
    expect(sim.requestLog()).toEqual([expect.objectContaining({ method: "POST", path: queryPath(), status: 200, tenantId: sim.tenants[0]!.tenantId, operation: "unknown" })]);
  });
});

describe("POST /v1/$batch", () => {
  it("answers each request by id with its own status and body", async () => {
    const res = await client.post("/v1/$batch", {
      body: {
        requests: [
          { id: "own", headers: { "Content-Type": "application/json" }, body: { query: `${TABLE} | count`, timespan: "P30D" }, method: "POST", path: "/query", workspace: workspace() },
          { id: "get", method: "GET", path: `/query?query=${encodeURIComponent(`${TABLE} | count`)}&timespan=P30D`, workspace: workspace() },
          { id: "unknown", body: { query: TABLE }, method: "POST", path: "/query", workspace: UNKNOWN_WORKSPACE },
          { id: "path", body: { query: TABLE }, method: "POST", path: "/fakePath", workspace: workspace() },
          { id: "foreign", body: { query: TABLE }, method: "POST", path: "/query", workspace: workspace(1) },
        ],
      },
    });
    expect(res.status).toBe(200);
    const byId = Object.fromEntries((res.body.responses as { id: string; status: number; body: unknown }[]).map((r) => [r.id, r]));
    const direct = await query(`${TABLE} | count`, "P30D");
    expect(byId.own).toEqual({ id: "own", status: 200, body: direct.body });
    expect(byId.get).toEqual({ id: "get", status: 200, body: direct.body });
    expect(byId.unknown).toMatchObject({ status: 400, body: { error: { code: "FailedToResolveResource" } } });
    expect(byId.path).toMatchObject({ status: 404, body: { error: { code: "PathNotFoundError" } } });
    expect(byId.foreign).toMatchObject({ status: 403, body: { error: { code: "InsufficientAccessError" } } });
  });

  it("fails the whole batch for a malformed body, duplicate ids or no token", async () => {
    const malformed = await client.post("/v1/$batch", { body: "{", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.innererror.details[0].code).toBe("InvalidJsonBody");
    const duplicate = await client.post("/v1/$batch", {
      body: { requests: [1, 2].map(() => ({ id: "same", body: { query: TABLE }, method: "POST", path: "/query", workspace: workspace() })) },
    });
    expect(duplicate.status).toBe(400);
    const none = await client.post("/v1/$batch", { token: null, body: { requests: [] } });
    expect(none.status).toBe(401);
  });
});

describe("the generated sign-in logs", () => {
  it("log successes for some identities in use, failures that do not count, and nothing for most unused ones", () => {
    const identities = sim.truth.tenants[0]!.identities;
    const unused = identities.filter((i) => !sim.truth.isUsed(i.id));
    const used = identities.filter((i) => i.associationCount > 0);
    const signedIn = (id: string) => sim.truth.lastSuccessfulSignIn(id) !== undefined;
    expect(used.filter((i) => signedIn(i.id)).length / used.length).toBeGreaterThan(0.6);
    const recent = used.filter((i) => Date.parse(sim.truth.lastSuccessfulSignIn(i.id)?.at ?? "") > Date.now() - 30 * DAY_MS);
    const older = used.filter((i) => Date.parse(sim.truth.lastSuccessfulSignIn(i.id)?.at ?? "") < Date.now() - 31 * DAY_MS);
    expect(recent.length).toBeGreaterThan(0);
    expect(older.length).toBeGreaterThan(0);
    const failedOnly = unused.filter((i) => sim.truth.signInsOf(i.id).length > 0 && !signedIn(i.id));
    expect(failedOnly.length).toBeGreaterThan(0);
    for (const identity of failedOnly) expect(sim.truth.signInsOf(identity.id).every((s) => s.resultType !== "0")).toBe(true);
    expect(unused.filter((i) => sim.truth.signInsOf(i.id).length === 0).length / unused.length).toBeGreaterThan(0.5);
  });

  it("have identities used only through sign-ins sign in successfully within the last few days", () => {
    const signInOnly = sim.truth.tenants[0]!.identities.filter((i) => (i as { hiddenUsage?: readonly string[] }).hiddenUsage?.includes("signInOnly"));
    for (const identity of signInOnly) {
      const last = sim.truth.lastSuccessfulSignIn(identity.id);
      expect(last, identity.name).toBeDefined();
      expect(Date.parse(last!.at)).toBeGreaterThan(sim.truth.tenants[0]!.identities.length > 0 ? Date.now() - 5 * DAY_MS : 0);
    }
  });

  it("never date a sign-in before the identity existed or more than 90 days back", () => {
    for (const identity of sim.truth.tenants[0]!.identities) {
      for (const s of sim.truth.signInsOf(identity.id)) {
        expect(Date.parse(s.at)).toBeGreaterThanOrEqual(Math.floor(Date.parse(identity.createdAt)));
        expect(Date.parse(s.at)).toBeGreaterThan(Date.now() - 92 * DAY_MS);
      }
    }
  });

  it("are what the table holds: arg_max per identity equals the truth's last success", async () => {
    const res = await query(`${TABLE}\n| where ResultType == "0"\n| summarize arg_max(TimeGenerated, ResourceDisplayName) by principalId = tolower(ServicePrincipalId)`);
    expect(res.status).toBe(200);
    const got = new Map((res.body.tables[0].rows as [string, string, string][]).map(([p, at, resource]) => [p, { at: new Date(at).toISOString(), resource }]));
    const want = new Map(
      sim.truth.tenants[0]!.identities.flatMap((i) => {
        const last = sim.truth.lastSuccessfulSignIn(i.id);
        return last ? [[i.principalId.toLowerCase(), { at: last.at, resource: last.resource }] as const] : [];
      }),
    );
    expect(got).toEqual(want);
  });
});

describe("controls", () => {
  it("addSignIn logs a sign-in that the next query sees", async () => {
    const identity = sim.truth.tenants[0]!.identities.find((i) => sim.truth.signInsOf(i.id).length === 0)!;
    const at = new Date(Date.now() - 3_600_000).toISOString();
    expect(sim.addSignIn(identity.id, { at, resource: "Microsoft Graph" })).toEqual({ at, resultType: "0", resource: "Microsoft Graph" });
    expect(sim.truth.lastSuccessfulSignIn(identity.id)).toEqual({ at, resultType: "0", resource: "Microsoft Graph" });
    const res = await query(`${TABLE} | where ServicePrincipalId == "${identity.principalId}" | project ResourceDisplayName, AppId, ServicePrincipalName, ResultType, Category, OperationName, Type, TenantId`, "PT2H");
    expect(res.body.tables[0].rows).toEqual([["Microsoft Graph", identity.clientId, identity.name, "0", "ManagedIdentitySignInLogs", "Sign-in activity", TABLE, workspace()]]);
    expect(sim.addSignIn(identity.id, { resultType: "500011" }).resultType).toBe("500011");
    expect(sim.truth.lastSuccessfulSignIn(identity.id)?.at).toBe(at);
    expect(() => sim.addSignIn("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope")).toThrow();
    expect(() => sim.addSignIn(identity.id, { at: "yesterday" })).toThrow(TypeError);
  });

  it("setSignInLogs removes and restores the table", async () => {
    const tenantId = sim.tenants[0]!.tenantId;
    sim.setSignInLogs(tenantId, false);
    const missing = await query(`${TABLE} | count`);
    expect(missing.status).toBe(400);
    expect(missing.body.error.innererror.innererror.code).toBe("SEM0100");
    sim.setSignInLogs(tenantId, true);
    expect((await query(`${TABLE} | count`)).status).toBe(200);
  });

  it("failLogsQueries answers the next queries with a partial result or a status", async () => {
    sim.failLogsQueries({ partial: true });
    const whole = column((await query(`${TABLE} | count`)).body); // the fault is consumed here
    expect(whole).toHaveLength(1);
    const full = await query(`${TABLE} | project Id`);
    sim.failLogsQueries({ partial: true });
    const partial = await query(`${TABLE} | project Id`);
    expect(partial.status).toBe(200);
    expect(partial.body.tables[0].rows.length).toBe(Math.ceil(full.body.tables[0].rows.length / 2));
    expect(partial.body.error).toMatchObject({ code: "PartialError", message: "There were some errors when processing your query.", details: [{ code: "EngineError" }] });

    sim.failLogsQueries({ status: 429, count: 2 });
    const throttled = await query(`${TABLE} | count`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("1");
    expect((await query(`${TABLE} | count`)).status).toBe(429);
    expect((await query(`${TABLE} | count`)).status).toBe(200);
    expect(() => sim.failLogsQueries({ status: 200 })).toThrow(TypeError);
  });
});

describe("timespan parsing", () => {
  it("reads ISO 8601 durations", () => {
    expect(parseDuration("P30D")).toBe(30 * DAY_MS);
    expect(parseDuration("PT12H")).toBe(12 * 3_600_000);
    expect(parseDuration("P1DT2H30M")).toBe(DAY_MS + 2.5 * 3_600_000);
    expect(parseDuration("P2W")).toBe(14 * DAY_MS);
    expect(parseDuration("PT0.5S")).toBe(500);
    for (const bad of ["P", "PT", "30D", "P1H", "", "P-1D"]) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it("resolves durations, intervals and nothing", () => {
    const now = Date.parse("2024-06-30T00:00:00Z");
    expect(resolveTimespan("P1D", now)).toEqual({ from: now - DAY_MS, to: now });
    expect(resolveTimespan("2024-01-01/2024-01-02", now)).toEqual({ from: Date.parse("2024-01-01"), to: Date.parse("2024-01-02") });
    expect(resolveTimespan("2024-01-01T00:00:00Z/P1D", now)).toEqual({ from: Date.parse("2024-01-01"), to: Date.parse("2024-01-02") });
    expect(resolveTimespan("P1D/2024-01-02T00:00:00Z", now)).toEqual({ from: Date.parse("2024-01-01"), to: Date.parse("2024-01-02") });
    expect(resolveTimespan(undefined, now)).toEqual({ from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY });
    expect(typeof resolveTimespan("2024-01-02/2024-01-01", now)).toBe("string");
    expect(typeof resolveTimespan(30, now)).toBe("string");
  });
});
