/**
 * Hostile bodies for `POST /api/audits`, through the real handler in @azure/functions test mode against
 * Azurite: nesting deep enough to overflow a recursive walk, bodies too large to parse in the event
 * loop, and bodies that are not JSON at all. Each gets a 4xx problem+json, quickly, and never a 500.
 */
import { HttpRequest } from "@azure/functions";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/api/validation.js";
import type { AppRuntime } from "../../src/app/runtime.js";
import { startAuditHttp } from "../../src/functions/startAuditHttp.js";
import { capturingContext, testRuntime } from "../helpers/runtime.js";

const URL_AUDITS = "http://localhost:7071/api/audits";
const JSON_TYPE = { "content-type": "application/json" };

let runtime: AppRuntime;
beforeAll(async () => {
  runtime = await testRuntime();
});

async function post(body: { string?: string; bytes?: Uint8Array }, headers: Record<string, string> = JSON_TYPE) {
  const request = new HttpRequest({ method: "POST", url: URL_AUDITS, body, headers });
  return startAuditHttp(request, capturingContext("startAuditHttp").context, () => Promise.resolve(runtime));
}

function problemOf(response: { status?: number; headers?: unknown; jsonBody?: unknown }) {
  expect((response.headers as Record<string, string> | undefined)?.["content-type"]).toBe("application/problem+json");
  const body = response.jsonBody as { status: number; detail: string };
  expect(body.status).toBe(response.status);
  return body;
}

/** Runs `fn` and reports the longest the event loop was blocked meanwhile. */
async function withLoopDelay<T>(fn: () => Promise<T>): Promise<{ result: T; maxBlockedMs: number; elapsedMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const started = performance.now();
  try {
    const result = await fn();
    const elapsedMs = performance.now() - started;
    // A block is recorded when the sampling timer finally runs: let it run once more.
    await new Promise((r) => setTimeout(r, 30));
    return { result, maxBlockedMs: histogram.max / 1e6, elapsedMs };
  } finally {
    histogram.disable();
  }
}

const nested = (field: string, depth: number) => `{"${field}":${"[".repeat(depth)}${"]".repeat(depth)}}`;

describe("POST /api/audits with hostile bodies", () => {
  it("5,000-deep nested arrays (10 KB): 400 describing the item by its type, not a stack overflow", async () => {
    const body = nested("subscriptions", 5000);
    expect(body.length).toBeLessThan(11_000);
    const response = await post({ string: body });
    expect(response.status).toBe(400);
    expect(problemOf(response).detail).toBe(`"subscriptions[0]" is not a subscription id (GUID): it is an array`);
  });

  it("the deepest nesting that fits under the size cap: 400, and the event loop stays responsive", async () => {
    const depth = Math.floor((MAX_BODY_BYTES - 40) / 2);
    const { result, maxBlockedMs } = await withLoopDelay(() => post({ string: nested("managementGroups", depth) }));
    expect(result.status).toBe(400);
    expect(problemOf(result).detail).toMatch(/"managementGroups\[0\]" is not a management group id: it is an array/);
    expect(maxBlockedMs).toBeLessThan(1000);
  });

  it.each([
    [{ subscriptions: [{ a: { b: {} } }] }, `"subscriptions[0]" is not a subscription id (GUID): it is an object`],
    [{ subscriptions: [null] }, `"subscriptions[0]" is not a subscription id (GUID): it is null`],
    [{ subscriptions: [12] }, `"subscriptions[0]" is not a subscription id (GUID): it is a number`],
    [{ managementGroups: [true] }, `"managementGroups[0]" is not a management group id: it is a boolean`],
    [{ managementGroups: ["a/b"] }, `"managementGroups[0]" is not a management group id: "a/b"`],
    [{ subscriptions: { length: 1 } }, `"subscriptions" must be an array of subscription id (GUID)s, not an object`],
  ])("an item of the wrong type %j: 400 naming its type", async (body, detail) => {
    const response = await post({ string: JSON.stringify(body) });
    expect(response.status).toBe(400);
    expect(problemOf(response).detail).toBe(detail);
  });

  it("a 10 MB body: 413 before it is parsed, without blocking the event loop", async () => {
    const body = nested("subscriptions", 5 * 1024 * 1024);
    const bytes = new TextEncoder().encode(body);
    // Streamed (no Content-Length, as test mode and chunked clients send it), then declared up front.
    const variants: Record<string, string>[] = [JSON_TYPE, { ...JSON_TYPE, "content-length": String(bytes.length) }];
    for (const headers of variants) {
      const { result, maxBlockedMs, elapsedMs } = await withLoopDelay(() => post({ bytes }, headers));
      console.log(`10 MB body${headers["content-length"] ? " with Content-Length" : ", streamed"}: ${result.status} in ${Math.round(elapsedMs)} ms, event loop blocked at most ${Math.round(maxBlockedMs)} ms`);
      expect(result.status).toBe(413);
      expect(problemOf(result).detail).toMatch(new RegExp(`at most ${MAX_BODY_BYTES} bytes`));
      expect(maxBlockedMs).toBeLessThan(500);
      expect(elapsedMs).toBeLessThan(2000);
    }
  });

  it.each([
    ["text/plain", "{}"],
    ["application/x-www-form-urlencoded", "subscriptions=x"],
    ["application/xml", "<scope/>"],
  ])("a %s body: 415 naming the type to use", async (type, body) => {
    const response = await post({ string: body }, { "content-type": type });
    expect(response.status).toBe(415);
    expect(problemOf(response).detail).toMatch(/application\/json/);
  });

  it("a body without a content type: 415; an empty body needs none", async () => {
    const bare = await post({ bytes: new TextEncoder().encode("{}") }, {});
    expect(bare.status).toBe(415);
    const own = await testRuntime();
    const ownRuntime = () => Promise.resolve(own);
    const empty = await startAuditHttp(new HttpRequest({ method: "POST", url: URL_AUDITS }), capturingContext("startAuditHttp").context, ownRuntime);
    expect(empty.status).toBe(202);
  });

  it("JSON with a charset or a +json type is accepted", async () => {
    for (const type of ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"]) {
      const own = await testRuntime();
      const ownRuntime = () => Promise.resolve(own);
      const request = new HttpRequest({ method: "POST", url: URL_AUDITS, body: { string: "{}" }, headers: { "content-type": type } });
      expect((await startAuditHttp(request, capturingContext("startAuditHttp").context, ownRuntime)).status, type).toBe(202);
    }
  });
});
