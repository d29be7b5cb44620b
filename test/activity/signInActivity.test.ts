/**
 * lastSuccessfulSignIns against the simulator's Log Analytics API over real HTTPS (its own certificate
 * trusted through `caFile`), compared with the simulator's ground truth of the sign-in logs.
 */
import { LogsQueryClient, LogsQueryResultStatus } from "@azure/monitor-query-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../simulator/index.js";
import {
  lastSuccessfulSignIns,
  logsScope,
  signInActivityQuery,
  SignInQueryError,
  type SignInActivity,
  type SignInSettings,
} from "../../src/activity/signInActivity.js";
import { staticTokenCredential } from "../../src/arm/connection.js";
import { rejectionOf } from "../helpers/rejection.js";

const DAY_MS = 24 * 60 * 60 * 1000;

let sim: RunningSimulator;

function settings(overrides: Partial<SignInSettings> = {}, tenant = 0): SignInSettings {
  const info = sim.tenants[tenant];
  if (!info) throw new Error(`no tenant ${tenant}`);
  return { workspaceId: info.workspaceId, windowDays: 30, endpoint: sim.endpoint, credential: staticTokenCredential(info.token), caFile: sim.caFile, ...overrides };
}

/** What the client must answer for a window, computed from the ground truth at the time of the call. */
function expected(windowDays: number, tenant = 0): Map<string, { clientId: string; lastSignInAt: string; resource: string }> {
  const cutoff = Date.now() - windowDays * DAY_MS;
  const out = new Map<string, { clientId: string; lastSignInAt: string; resource: string }>();
  for (const identity of sim.truth.tenants[tenant]?.identities ?? []) {
    const successes = sim.truth.signInsOf(identity.id).filter((s) => s.resultType === "0" && Date.parse(s.at) >= cutoff);
    const last = successes[successes.length - 1];
    if (last) out.set(identity.principalId.toLowerCase(), { clientId: identity.clientId, lastSignInAt: last.at, resource: last.resource });
  }
  return out;
}

function byPrincipal(rows: SignInActivity[]): Map<string, { clientId: string; lastSignInAt: string; resource: string }> {
  return new Map(rows.map((r) => [r.principalId, { clientId: r.clientId, lastSignInAt: r.lastSignInAt, resource: r.resource }]));
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SignInQueryError);

beforeAll(async () => {
  sim = await startSimulator({ identities: 150, seed: "sign-in-client", tenants: 2, rate: 10_000, argQuota: { limit: 100_000, windowMs: 5000 } });
});

afterAll(async () => {
  await sim?.close();
});

describe("lastSuccessfulSignIns", () => {
  it("answers one row per identity that signed in within the window: its latest success and what it signed in to", async () => {
    const rows = await lastSuccessfulSignIns(settings());
    const want = expected(30);
    expect(want.size).toBeGreaterThan(10);
    expect(rows).toHaveLength(new Set(rows.map((r) => r.principalId)).size);
    expect(byPrincipal(rows)).toEqual(want);
    for (const row of rows) {
      expect(row.principalId).toBe(row.principalId.toLowerCase());
      expect(row.lastSignInAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  it("ignores failed sign-ins: an identity with only failures has no row until it succeeds", async () => {
    const failedOnly = (sim.truth.tenants[0]?.identities ?? []).filter((i) => {
      const all = sim.truth.signInsOf(i.id);
      return all.length > 0 && all.every((s) => s.resultType !== "0");
    });
    expect(failedOnly.length).toBeGreaterThan(0);
    const first = failedOnly[0]!;
    sim.addSignIn(first.id, { resultType: "500011", resource: "Azure Storage" });
    const principals = new Set((await lastSuccessfulSignIns(settings())).map((r) => r.principalId));
    for (const identity of failedOnly) expect(principals.has(identity.principalId.toLowerCase())).toBe(false);

    const success = sim.addSignIn(first.id, { at: Date.now() - 60_000, resource: "Azure Storage" });
    const rows = await lastSuccessfulSignIns(settings());
    expect(rows.find((r) => r.principalId === first.principalId.toLowerCase())).toEqual({
      principalId: first.principalId.toLowerCase(),
      clientId: first.clientId,
      lastSignInAt: success.at,
      resource: "Azure Storage",
    });
    // A later failure does not hide the success, nor replace its time.
    sim.addSignIn(first.id, { resultType: "7000112" });
    expect((await lastSuccessfulSignIns(settings())).find((r) => r.principalId === first.principalId.toLowerCase())?.lastSignInAt).toBe(success.at);
  });

  it("respects the window: older successes count only in a longer window", async () => {
    // Between 31 and 89 days old: the simulator's history reaches 90 days back from the start of its UTC day, so
    // later in the day the oldest sign-ins fall outside a 90-day window measured from now (expected(90) below
    // holds for those too).
    const old = (sim.truth.tenants[0]?.identities ?? []).filter((i) => {
      const last = sim.truth.lastSuccessfulSignIn(i.id);
      return last !== undefined && Date.parse(last.at) < Date.now() - 31 * DAY_MS && Date.parse(last.at) > Date.now() - 89 * DAY_MS;
    });
    expect(old.length).toBeGreaterThan(0);
    const in30 = new Set((await lastSuccessfulSignIns(settings({ windowDays: 30 }))).map((r) => r.principalId));
    const rows90 = await lastSuccessfulSignIns(settings({ windowDays: 90 }));
    const in90 = new Set(rows90.map((r) => r.principalId));
    for (const identity of old) {
      expect(in30.has(identity.principalId.toLowerCase())).toBe(false);
      expect(in90.has(identity.principalId.toLowerCase())).toBe(true);
    }
    expect(byPrincipal(rows90)).toEqual(expected(90));

    // A sign-in placed just inside and just outside a 7-day window.
    const [inside, outside] = (sim.truth.tenants[0]?.identities ?? []).filter((i) => sim.truth.signInsOf(i.id).length === 0);
    expect(inside && outside).toBeTruthy();
    sim.addSignIn(inside!.id, { at: Date.now() - 6 * DAY_MS });
    sim.addSignIn(outside!.id, { at: Date.now() - 8 * DAY_MS });
    const in7 = new Set((await lastSuccessfulSignIns(settings({ windowDays: 7 }))).map((r) => r.principalId));
    expect(in7.has(inside!.principalId.toLowerCase())).toBe(true);
    expect(in7.has(outside!.principalId.toLowerCase())).toBe(false);
  });

  it("sends one query with the window as the API's timespan", async () => {
    sim.clearRequestLog();
    await lastSuccessfulSignIns(settings({ windowDays: 45 }));
    const queries = sim.requestLog().filter((e) => e.path.startsWith("/v1/"));
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatchObject({ method: "POST", path: `/v1/workspaces/${sim.tenants[0]!.workspaceId}/query`, status: 200, tenantId: sim.tenants[0]!.tenantId });
  });

  it("reads the tenant's own workspace only: another tenant's workspace is a 403 naming the role to grant", async () => {
    const error = await failure(lastSuccessfulSignIns(settings({ workspaceId: sim.tenants[1]!.workspaceId })));
    expect(error).toMatchObject({ code: "Forbidden", status: 403, serviceCode: "InsufficientAccessError", transient: false });
    expect(error.message).toMatch(/Log Analytics Reader/);
    expect(error.message).toContain(sim.tenants[1]!.workspaceId);
    expect(error.message).not.toContain(sim.tenants[0]!.token);
  });

  it("says so when the workspace does not exist", async () => {
    const error = await failure(lastSuccessfulSignIns(settings({ workspaceId: "9d0c2a53-5b8e-4f55-b0a2-0b1f7c2b6f11" })));
    expect(error).toMatchObject({ code: "WorkspaceNotFound", status: 404, serviceCode: "PathNotFoundError" });
    expect(error.message).toMatch(/Workspace ID \(the GUID on its Overview page\)/);
  });

  it("says how to route the sign-in logs when the workspace lacks the table", async () => {
    sim.setSignInLogs(sim.tenants[0]!.tenantId, false);
    try {
      const error = await failure(lastSuccessfulSignIns(settings()));
      expect(error).toMatchObject({ code: "TableNotFound", status: 400, serviceCode: "BadArgumentError" });
      expect(error.message).toMatch(/"ManagedIdentitySignInLogs" category/);
      expect(error.message).toMatch(/Diagnostic settings/);
    } finally {
      sim.setSignInLogs(sim.tenants[0]!.tenantId, true);
    }
  });

  it("refuses a partial result: an incomplete list must not make an identity look inactive", async () => {
    sim.failLogsQueries({ partial: true });
    const error = await failure(lastSuccessfulSignIns(settings()));
    expect(error).toMatchObject({ code: "PartialResult", status: 200, serviceCode: "PartialError", transient: true });
    expect(error.message).toMatch(/record count limit/);
    expect(error.message).toMatch(/look unused/);
    // The next query is whole again.
    expect(byPrincipal(await lastSuccessfulSignIns(settings()))).toEqual(expected(30));
  });

  it("reports an invalid token as a credential problem, without the token", async () => {
    const token = "not-a-token-the-simulator-issued-0123456789";
    const error = await failure(lastSuccessfulSignIns(settings({ credential: staticTokenCredential(token) })));
    expect(error).toMatchObject({ code: "AuthenticationFailed", status: 403, serviceCode: "InvalidAuthenticationToken" });
    expect(error.message).toMatch(/UAMI_LOGS_TOKEN/);
    expect(error.message).not.toContain(token);
  });

  it("retries a transient 503 within its bound and answers", async () => {
    sim.failLogsQueries({ status: 503, count: 1 });
    expect(byPrincipal(await lastSuccessfulSignIns(settings()))).toEqual(expected(30));
  });

  it("reports throttling that outlasts its retries as transient", async () => {
    sim.failLogsQueries({ status: 429, count: 3 });
    const error = await failure(lastSuccessfulSignIns(settings()));
    expect(error).toMatchObject({ code: "Throttled", status: 429, transient: true });
  });

  it("stops when aborted", async () => {
    await expect(lastSuccessfulSignIns(settings(), { abortSignal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
  });

  it.each([
    ["a workspace name", { workspaceId: "law-security" }, /settings.workspaceId must be the workspace's Workspace ID/],
    ["a zero window", { windowDays: 0 }, /windowDays must be an integer from 1 to 730/],
    ["a window past retention", { windowDays: 731 }, /windowDays must be an integer from 1 to 730/],
    ["an http endpoint", { endpoint: "http://api.loganalytics.io" }, /endpoint must be an https:\/\/ URL/],
    ["an unreadable CA file", { caFile: "/nonexistent/ca.pem" }, /cannot read settings.caFile/],
  ])("refuses %s up front", async (_what, overrides, message) => {
    await expect(lastSuccessfulSignIns(settings(overrides as Partial<SignInSettings>))).rejects.toThrow(message);
  });
});

describe("the Logs endpoint and audience", () => {
  it("keeps the public audience on either public host and follows sovereign clouds", () => {
    expect(logsScope("https://api.loganalytics.io")).toBe("https://api.loganalytics.io/.default");
    expect(logsScope("https://api.loganalytics.azure.com")).toBe("https://api.loganalytics.io/.default");
    expect(logsScope("https://api.loganalytics.azure.cn")).toBe("https://api.loganalytics.azure.cn/.default");
    expect(logsScope("https://api.loganalytics.us")).toBe("https://api.loganalytics.us/.default");
  });

  it("accepts an endpoint given with /v1", async () => {
    expect(byPrincipal(await lastSuccessfulSignIns(settings({ endpoint: `${sim.endpoint}/v1/` })))).toEqual(expected(30));
  });
});

describe("the batch route, through the SDK's queryBatch", () => {
  it("answers the sign-in query per request id, and a workspace that resolves to nothing on its own", async () => {
    const { Agent } = await import("node:https");
    const client = new LogsQueryClient(staticTokenCredential(sim.tenants[0]!.token), {
      endpoint: `${sim.endpoint}/v1`,
      agent: new Agent({ ca: sim.ca }),
      retryOptions: { maxRetries: 0 },
    });
    const [own, missing] = await client.queryBatch([
      { workspaceId: sim.tenants[0]!.workspaceId, query: signInActivityQuery(), timespan: { duration: "P30D" } },
      { workspaceId: "9d0c2a53-5b8e-4f55-b0a2-0b1f7c2b6f11", query: signInActivityQuery(), timespan: { duration: "P30D" } },
    ]);
    expect(own?.status).toBe(LogsQueryResultStatus.Success);
    if (own?.status !== LogsQueryResultStatus.Success) throw new Error("unreachable");
    const table = own.tables[0]!;
    expect(table.columnDescriptors).toEqual([
      { name: "principalId", type: "string" },
      { name: "clientId", type: "string" },
      { name: "lastSignInAt", type: "datetime" },
      { name: "resource", type: "string" },
    ]);
    const rows = table.rows.map(([principalId, clientId, at, resource]) => ({
      principalId: principalId as string,
      clientId: clientId as string,
      lastSignInAt: (at as Date).toISOString(),
      resource: resource as string,
    }));
    expect(byPrincipal(rows)).toEqual(expected(30));
    // The SDK turns an answer with an error body into a partial failure with no tables.
    expect(missing).toMatchObject({ status: LogsQueryResultStatus.PartialFailure, partialTables: [], partialError: { code: "FailedToResolveResource" } });
  });
});
