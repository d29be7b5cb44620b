import { inspect } from "node:util";
import { createHttpHeaders, RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import {
  ArmError,
  armErrorFromResponse,
  isNotFound,
  isThrottled,
  isTransient,
  networkError,
  parseErrorBody,
  parseRetryAfterMs,
  redactSecrets,
  registerSecret,
} from "../../src/arm/errors.js";

const ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x";

describe("ArmError", () => {
  it("says what failed, on what, and what ARM answered", () => {
    const e = new ArmError({ operation: "listAssociatedResources", resourceId: ID, status: 404, code: "ResourceNotFound", armMessage: "gone" });
    expect(e.message).toBe(`listAssociatedResources failed for ${ID}: 404 ResourceNotFound: gone`);
    expect(e.name).toBe("ArmError");
    expect(e).toBeInstanceOf(Error);
    expect(isNotFound(e)).toBe(true);
    expect(isThrottled(e)).toBe(false);
    expect(isTransient(e)).toBe(false);
  });

  it.each([
    [500, true],
    [503, true],
    [408, true],
    [0, true],
    [429, false],
    [400, false],
    [401, false],
    [404, false],
  ])("status %i transient: %s", (status, transient) => {
    expect(isTransient(new ArmError({ operation: "op", status, code: "c", armMessage: "m" }))).toBe(transient);
  });

  it("the predicates are false for unrelated values", () => {
    for (const e of [new Error("x"), { status: 404 }, undefined, "404"]) {
      expect(isNotFound(e)).toBe(false);
      expect(isThrottled(e)).toBe(false);
      expect(isTransient(e)).toBe(false);
    }
  });

  it("the predicates also read RestErrors of other Azure SDK calls and raw network errors", () => {
    expect(isNotFound(new RestError("gone", { statusCode: 404 }))).toBe(true);
    expect(isThrottled(new RestError("slow down", { statusCode: 429 }))).toBe(true);
    expect(isTransient(new RestError("oops", { statusCode: 503 }))).toBe(true);
    expect(isTransient(new RestError("bad", { statusCode: 400 }))).toBe(false);
    expect(isTransient(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("nope"), { code: "ERR_INVALID_ARG_TYPE" }))).toBe(false);
  });
});

describe("armErrorFromResponse", () => {
  const headers = (h: Record<string, string>) => createHttpHeaders(h);

  it("reads ARM's CloudError with target and details", () => {
    const e = armErrorFromResponse({
      operation: "getIdentity",
      resourceId: ID,
      status: 400,
      headers: headers({ "x-ms-request-id": "req-1" }),
      bodyText: JSON.stringify({ error: { code: "InvalidParameter", message: "bad", target: "name", details: [{ code: "Inner", message: "why" }] } }),
    });
    expect(e).toMatchObject({ status: 400, code: "InvalidParameter", armMessage: "bad", target: "name", requestId: "req-1" });
    expect(e.details).toEqual([{ code: "Inner", message: "why" }]);
    expect(e.message).toBe(`getIdentity failed for ${ID}: 400 InvalidParameter: bad [Inner: why]`);
  });

  it("says when the body is not JSON, truncated", () => {
    const html = `<html>${"x".repeat(1000)}</html>`;
    const e = armErrorFromResponse({ operation: "op", status: 502, headers: headers({ "content-type": "text/html" }), bodyText: html });
    expect(e.code).toBe("Http502");
    expect(e.armMessage).toMatch(/^non-JSON response body \(text\/html\): <html>x+… \(1013 chars\)$/);
    expect(e.armMessage.length).toBeLessThan(300);
    expect(isTransient(e)).toBe(true);
  });

  it("handles an empty body and JSON that is not an error", () => {
    expect(armErrorFromResponse({ operation: "op", status: 404, bodyText: "" }).armMessage).toBe("empty response body");
    expect(armErrorFromResponse({ operation: "op", status: 404, bodyText: "[1,2]" }).armMessage).toMatch(/unexpected error body/);
  });

  it("takes retryAfterMs from Retry-After, or a default for 429", () => {
    expect(armErrorFromResponse({ operation: "op", status: 429, headers: headers({ "retry-after": "3" }), bodyText: "" }).retryAfterMs).toBe(3000);
    expect(armErrorFromResponse({ operation: "op", status: 429, bodyText: "" }).retryAfterMs).toBe(1000);
    expect(armErrorFromResponse({ operation: "op", status: 429, bodyText: "", defaultRetryAfterMs: 5000 }).retryAfterMs).toBe(5000);
    expect(armErrorFromResponse({ operation: "op", status: 500, bodyText: "" }).retryAfterMs).toBeUndefined();
  });
});

describe("parseErrorBody", () => {
  it("accepts CloudError, ARG ErrorResponse and the bare OData shape; rejects others", () => {
    expect(parseErrorBody({ error: { code: "A", message: "m" } })).toEqual({ code: "A", message: "m", details: [] });
    expect(parseErrorBody({ code: "B", message: "n" })).toEqual({ code: "B", message: "n", details: [] });
    expect(parseErrorBody({ error: "nope" })).toBeUndefined();
    expect(parseErrorBody(null)).toBeUndefined();
    expect(parseErrorBody({ value: [] })).toBeUndefined();
  });
});

describe("parseRetryAfterMs", () => {
  it.each([
    ["3", 3000],
    ["0", 0],
    ["1.5", 1500],
    [" 10 ", 10_000],
    ["", undefined],
    ["soon", undefined],
    [undefined, undefined],
  ])("%j -> %j", (value, ms) => {
    expect(parseRetryAfterMs(value)).toBe(ms);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    const now = Date.parse("Tue, 07 Feb 2023 16:44:24 GMT");
    expect(parseRetryAfterMs("Tue, 07 Feb 2023 16:44:30 GMT", now)).toBe(6000);
    expect(parseRetryAfterMs("Tue, 07 Feb 2023 16:44:00 GMT", now)).toBe(0);
  });
});

describe("secrets never reach a message", () => {
  it("redacts registered secrets, bearer tokens and JWTs", () => {
    registerSecret("s3cr3t-static-token-value");
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    expect(redactSecrets("a s3cr3t-static-token-value b")).toBe("a [redacted] b");
    expect(redactSecrets("Authorization: Bearer abc.def-ghi")).toBe("Authorization: Bearer [redacted]");
    expect(redactSecrets(`token ${jwt} end`)).toBe("token [redacted-jwt] end");
    const e = new ArmError({ operation: "op", status: 401, code: "InvalidAuthenticationToken", armMessage: `bad token ${jwt} s3cr3t-static-token-value`, details: [{ code: "x", message: "Bearer s3cr3t-static-token-value" }] });
    for (const text of [e.message, String(e), JSON.stringify(e), inspect(e)]) {
      expect(text).not.toContain("s3cr3t-static-token-value");
      expect(text).not.toContain(jwt);
    }
  });

  it("ignores secrets too short to redact safely", () => {
    registerSecret("abcde");
    expect(redactSecrets("abcde abcde")).toBe("abcde abcde");
  });
});

describe("networkError", () => {
  it("wraps a connection reset as transient status 0 without keeping the cause object", () => {
    const cause = Object.assign(new Error("socket hang up"), { code: "ECONNRESET", request: { headers: { authorization: "Bearer x" } } });
    const e = networkError("getIdentity", ID, cause);
    expect(e).toMatchObject({ status: 0, code: "ECONNRESET", transient: true, resourceId: ID });
    expect(e.message).toBe(`getIdentity failed for ${ID}: network error ECONNRESET: socket hang up`);
    expect(e.cause).toBeUndefined();
  });

  it("treats certificate failures as permanent", () => {
    const e = networkError("op", undefined, Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }));
    expect(isTransient(e)).toBe(false);
  });
});
