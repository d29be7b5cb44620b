import { HttpRequest } from "@azure/functions";
import { beforeAll, describe, expect, it } from "vitest";
import { getAudit } from "../../src/functions/getAudit.js";
import { getAuditReport } from "../../src/functions/getAuditReport.js";
import { getIdentityHistory } from "../../src/functions/getIdentityHistory.js";
import { getLatestReport } from "../../src/functions/getLatestReport.js";
import { startAuditHttp } from "../../src/functions/startAuditHttp.js";
import type { AppRuntime } from "../../src/app/runtime.js";
import { capturingContext, TEST_TENANT, testRuntime } from "../helpers/runtime.js";

const BASE = "http://localhost:7071/api";
const SUB = "0336439f-0e9d-44ec-975e-62accb9b3901";

let runtime: AppRuntime;
const getRuntime = () => Promise.resolve(runtime);

beforeAll(async () => {
  runtime = await testRuntime();
});

function problemOf(response: { status?: number; headers?: unknown; jsonBody?: unknown }) {
  const headers = response.headers as Record<string, string> | undefined;
  expect(headers?.["content-type"]).toBe("application/problem+json");
  const body = response.jsonBody as { status: number; title: string; detail: string };
  expect(body.status).toBe(response.status);
  expect(body.detail.length).toBeGreaterThan(10);
  return body;
}

async function post(body: string) {
  const request = new HttpRequest({ method: "POST", url: `${BASE}/audits`, body: { string: body }, headers: { "content-type": "application/json" } });
  return startAuditHttp(request, capturingContext("startAuditHttp").context, getRuntime);
}

describe("HTTP bad input gets a 4xx problem+json that says what is wrong", () => {
  it.each([
    ["malformed JSON", "{\"subscriptions\": [", /not valid JSON/],
    ["a JSON array", "[1,2]", /JSON object/],
    ["an unknown field", JSON.stringify({ subscriptions: [SUB], extra: 1 }), /Unknown field.*extra/],
    ["an invalid subscription id", JSON.stringify({ subscriptions: ["not-a-guid"] }), /subscriptions\[0\].*not a subscription id/],
    ["an injection attempt", JSON.stringify({ subscriptions: ["' or 1 eq 1 or '"] }), /not a subscription id/],
    ["subscriptions not an array", JSON.stringify({ subscriptions: SUB }), /must be an array/],
    ["both scopes", JSON.stringify({ subscriptions: [SUB], managementGroups: ["mg"] }), /not both/],
    ["an empty list", JSON.stringify({ managementGroups: [] }), /empty/],
    ["a bad management group", JSON.stringify({ managementGroups: ["a/b"] }), /not a management group id/],
  ])("POST /api/audits with %s: 400", async (_what, body, detail) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(problemOf(response).detail).toMatch(detail);
  });

  it("GET /api/audits/{runId} with a malformed run id: 400; an unknown one: 404", async () => {
    const bad = await getAudit(new HttpRequest({ method: "GET", url: `${BASE}/audits/x`, params: { runId: "../../etc" } }), capturingContext("getAudit").context, getRuntime);
    expect(bad.status).toBe(400);
    expect(problemOf(bad).detail).toMatch(/not a run id/);
    const missing = await getAudit(new HttpRequest({ method: "GET", url: `${BASE}/audits/x`, params: { runId: "20260101000000-deadbeef" } }), capturingContext("getAudit").context, getRuntime);
    expect(missing.status).toBe(404);
    expect(problemOf(missing).detail).toMatch(/No audit run 20260101000000-deadbeef/);
  });

  it("an unknown report format: 400 naming the formats, checked before anything else", async () => {
    const request = new HttpRequest({ method: "GET", url: `${BASE}/audits/x/report?format=pdf`, params: { runId: "20260101000000-deadbeef" }, query: { format: "pdf" } });
    const response = await getAuditReport(request, capturingContext("getAuditReport").context, getRuntime);
    expect(response.status).toBe(400);
    expect(problemOf(response).detail).toMatch(/json, csv, md, html/);
    const latest = await getLatestReport(new HttpRequest({ method: "GET", url: `${BASE}/reports/latest?format=<x>`, query: { format: "<x>" } }), capturingContext("getLatestReport").context, getRuntime);
    expect(latest.status).toBe(400);
  });

  it("the latest report before any completed run: 404", async () => {
    const response = await getLatestReport(new HttpRequest({ method: "GET", url: `${BASE}/reports/latest` }), capturingContext("getLatestReport").context, getRuntime);
    expect(response.status).toBe(404);
    expect(problemOf(response).detail).toMatch(new RegExp(TEST_TENANT));
  });

  it.each([
    [{ subscriptionId: "nope", resourceGroup: "rg", name: "idx" }, /subscription id/],
    [{ subscriptionId: SUB, resourceGroup: "rg/../x", name: "idx" }, /resource group/],
    [{ subscriptionId: SUB, resourceGroup: "ends-with-dot.", name: "idx" }, /resource group/],
    [{ subscriptionId: SUB, resourceGroup: "rg", name: "a'b" }, /identity name/],
    [{ subscriptionId: SUB, resourceGroup: "rg", name: "x" }, /identity name/],
  ])("GET /api/identities with bad path %j: 400", async (params, detail) => {
    const request = new HttpRequest({ method: "GET", url: `${BASE}/identities/a/b/c`, params });
    const response = await getIdentityHistory(request, capturingContext("getIdentityHistory").context, getRuntime);
    expect(response.status).toBe(400);
    expect(problemOf(response).detail).toMatch(detail);
  });

  it("GET /api/identities for an identity no audit has seen: 404", async () => {
    const request = new HttpRequest({ method: "GET", url: `${BASE}/identities/a/b/c`, params: { subscriptionId: SUB, resourceGroup: "rg-é-日本.(x)", name: "never-seen" } });
    const response = await getIdentityHistory(request, capturingContext("getIdentityHistory").context, getRuntime);
    expect(response.status).toBe(404);
  });

  it("POST /api/audits accepts a scoped run (202 + Location) and refuses a second one while it runs (409 naming it)", async () => {
    const own = await testRuntime();
    const ownRuntime = () => Promise.resolve(own);
    const first = await startAuditHttp(new HttpRequest({ method: "POST", url: `${BASE}/audits`, body: { string: JSON.stringify({ subscriptions: [SUB.toUpperCase()] }) }, headers: { "content-type": "application/json" } }), capturingContext("startAuditHttp").context, ownRuntime);
    expect(first.status).toBe(202);
    const location = (first.headers as Record<string, string>).location;
    expect(location).toMatch(/^\/api\/audits\/\d{14}-[0-9a-f]{8}$/);
    expect((first.jsonBody as { scope: unknown }).scope).toEqual({ subscriptions: [SUB], managementGroups: [] });
    const second = await startAuditHttp(new HttpRequest({ method: "POST", url: `${BASE}/audits` }), capturingContext("startAuditHttp").context, ownRuntime);
    expect(second.status).toBe(409);
    expect(problemOf(second)).toMatchObject({ runId: location?.split("/").pop() });
    const peek = await own.deps.storage.enumerateQueue.peekMessages({ numberOfMessages: 5 });
    expect(peek.peekedMessageItems).toHaveLength(1);
    const status = await getAudit(new HttpRequest({ method: "GET", url: `${BASE}${location}`, params: { runId: location!.split("/").pop()! } }), capturingContext("getAudit").context, () => Promise.resolve(own));
    expect(status.status).toBe(200);
    expect(status.jsonBody).toMatchObject({ status: "enumerating", progress: { total: null, checked: 0 } });
  });
});
