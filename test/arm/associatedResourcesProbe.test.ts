/**
 * probeAssociatedResourcesApi and isApiGone against a local HTTPS server: which preview api-version of
 * listAssociatedResources still answers, with ARM's real error shapes (`InvalidApiVersionParameter`: "The
 * api-version '…' is invalid. The supported versions are '…'"; `NoRegisteredProviderFound`: "No registered
 * resource provider found for location '…' and API version '…' for type '…'"), the 5,000-subscription limit
 * (seeds/000) and 429s.
 */
import { describe, expect, it } from "vitest";
import { ArmError } from "../../src/arm/errors.js";
import {
  ASSOCIATED_RESOURCES_PROBE_ORDER,
  isApiGone,
  probeAssociatedResourcesApi,
  type ProbeOptions,
} from "../../src/arm/associatedResources.js";
import { queryOf, useArmTestServer, type Reply } from "./support/testServer.js";

const TOKEN = "probe-token-71c3e0d2a9";
const IDENTITY =
  "/subscriptions/1cacb752-d7c9-463f-9731-fd31edada74a/resourceGroups/testrg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/testid";
const ACTION_PATH = `${IDENTITY}/listAssociatedResources`;

const arm = useArmTestServer(TOKEN);

function cloudError(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
  return { status, headers, body: { error: { code, message } } };
}

const OK: Reply = { body: { totalCount: 0, value: [] } };
const invalidApiVersion = (v: string): Reply =>
  cloudError(400, "InvalidApiVersionParameter", `The api-version '${v}' is invalid. The supported versions are '2024-11-30,2023-01-31,2018-11-30'.`);
const noProvider = (v: string): Reply =>
  cloudError(
    400,
    "NoRegisteredProviderFound",
    `No registered resource provider found for location 'westeurope' and API version '${v}' for type 'userAssignedIdentities'. The supported api-versions are '2023-01-31, 2024-11-30'.`,
  );

/** The api-version of every request the server saw, in order. */
function versionsSent(): (string | undefined)[] {
  return arm.server.requests.map((r) => queryOf(r).get("api-version"));
}

function counting(options: ProbeOptions = {}): { options: ProbeOptions; calls: { before: number; throttled: number[] } } {
  const calls = { before: 0, throttled: [] as number[] };
  return {
    calls,
    options: {
      beforeRequest: async () => void (calls.before += 1),
      onThrottled: async (ms) => void calls.throttled.push(ms),
      retryDelayMs: 0,
      ...options,
    },
  };
}

describe("probeAssociatedResourcesApi", () => {
  it("answers available with the default version after one 200, asking for one item", async () => {
    arm.serve({ body: { totalCount: 7, value: [] } });
    const { options, calls } = counting();
    await expect(probeAssociatedResourcesApi(arm.conn, IDENTITY, options)).resolves.toEqual({
      available: true,
      apiVersion: "2022-01-31-preview",
      tried: ["2022-01-31-preview"],
    });
    expect(calls.before).toBe(1);
    const [req] = arm.server.requests;
    expect(req?.method).toBe("POST");
    expect(req?.path).toBe(ACTION_PATH);
    expect(req?.rawQuery).toBe("api-version=2022-01-31-preview&$top=1");
  });

  it("tries the default, then 2023-07-31-preview, then 2021-09-30-preview", () => {
    expect(ASSOCIATED_RESOURCES_PROBE_ORDER).toEqual(["2022-01-31-preview", "2023-07-31-preview", "2021-09-30-preview"]);
  });

  it("moves on after InvalidApiVersionParameter and answers with the version that worked", async () => {
    arm.serve(invalidApiVersion("2022-01-31-preview"), OK);
    const { options, calls } = counting();
    await expect(probeAssociatedResourcesApi(arm.conn, IDENTITY, options)).resolves.toEqual({
      available: true,
      apiVersion: "2023-07-31-preview",
      tried: ["2022-01-31-preview", "2023-07-31-preview"],
    });
    expect(versionsSent()).toEqual(["2022-01-31-preview", "2023-07-31-preview"]);
    expect(calls.before).toBe(2);
  });

  it("answers unavailable, with the last code, when every version is gone", async () => {
    arm.serve(
      noProvider("2022-01-31-preview"),
      cloudError(400, "InvalidResourceType", "The resource type 'userAssignedIdentities/listAssociatedResources' could not be found in the namespace 'Microsoft.ManagedIdentity' for api version '2023-07-31-preview'."),
      { status: 404, body: "" },
    );
    const result = await probeAssociatedResourcesApi(arm.conn, IDENTITY, counting().options);
    expect(result).toEqual({
      available: false,
      code: "Http404",
      reason:
        "listAssociatedResources is not served at any api-version tried (2022-01-31-preview, 2023-07-31-preview, 2021-09-30-preview); the last answer was 404 Http404: empty response body",
      tried: ["2022-01-31-preview", "2023-07-31-preview", "2021-09-30-preview"],
    });
    expect(versionsSent()).toEqual(["2022-01-31-preview", "2023-07-31-preview", "2021-09-30-preview"]);
  });

  it("stops at the 5,000-subscription limit without trying other versions", async () => {
    const message = "Listing associated resources is limited to tenants with fewer than 5,000 subscriptions; tenant 't' has 5001 subscriptions.";
    arm.serve(cloudError(400, "TenantSubscriptionLimitExceeded", message));
    await expect(probeAssociatedResourcesApi(arm.conn, IDENTITY, counting().options)).resolves.toEqual({
      available: false,
      code: "TenantSubscriptionLimitExceeded",
      reason: `listAssociatedResources refuses tenants with more than 5,000 subscriptions (Azure's documented limit): 400 TenantSubscriptionLimitExceeded: ${message}`,
      tried: ["2022-01-31-preview"],
    });
    expect(arm.server.requests).toHaveLength(1);
  });

  it("recognises the limit by its message under another code", async () => {
    arm.serve(cloudError(400, "BadRequest", "This operation is not supported for tenants with more than 5000 subscriptions."));
    const result = await probeAssociatedResourcesApi(arm.conn, IDENTITY, counting().options);
    expect(result.available).toBe(false);
    expect(result.available === false && result.code).toBe("BadRequest");
    expect(arm.server.requests).toHaveLength(1);
  });

  it("after a 429 calls onThrottled with Retry-After, then asks the same version again", async () => {
    arm.serve(cloudError(429, "TooManyRequests", "Too many requests", { "retry-after": "2" }), OK);
    const { options, calls } = counting();
    await expect(probeAssociatedResourcesApi(arm.conn, IDENTITY, options)).resolves.toEqual({
      available: true,
      apiVersion: "2022-01-31-preview",
      tried: ["2022-01-31-preview"],
    });
    expect(calls.throttled).toEqual([2000]);
    expect(calls.before).toBe(2);
    expect(versionsSent()).toEqual(["2022-01-31-preview", "2022-01-31-preview"]);
  });

  it("without onThrottled, sleeps Retry-After itself", async () => {
    arm.serve(cloudError(429, "TooManyRequests", "Too many requests", { "retry-after": "0.05" }), OK);
    const result = await probeAssociatedResourcesApi(arm.conn, IDENTITY);
    expect(result.available).toBe(true);
    const [first, second] = arm.server.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(45);
  });

  it("a 404 ResourceNotFound for the identity itself means the version works", async () => {
    arm.serve(
      cloudError(
        404,
        "ResourceNotFound",
        "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/testid' under resource group 'testrg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      ),
    );
    await expect(probeAssociatedResourcesApi(arm.conn, IDENTITY, counting().options)).resolves.toEqual({
      available: true,
      apiVersion: "2022-01-31-preview",
      tried: ["2022-01-31-preview"],
    });
  });

  it("a 404 naming the action, not the identity, moves on", async () => {
    arm.serve(cloudError(404, "ResourceNotFound", "The resource 'testid/listAssociatedResources' was not found."), OK);
    const result = await probeAssociatedResourcesApi(arm.conn, IDENTITY, counting().options);
    expect(result).toEqual({ available: true, apiVersion: "2023-07-31-preview", tried: ["2022-01-31-preview", "2023-07-31-preview"] });
  });

  it("after maxAttempts of transient failures assumes the version works, and says so", async () => {
    arm.serve(cloudError(503, "ServiceUnavailable", "The service is unavailable."));
    const result = await probeAssociatedResourcesApi(arm.conn, IDENTITY, counting({ maxAttempts: 2 }).options);
    expect(result).toEqual({
      available: true,
      apiVersion: "2022-01-31-preview",
      tried: ["2022-01-31-preview"],
      unconfirmed: `no answer after 2 attempt(s) at 2022-01-31-preview: listAssociatedResources failed for ${IDENTITY}: 503 ServiceUnavailable: The service is unavailable.`,
    });
    expect(arm.server.requests).toHaveLength(2);
  });

  it("throws errors that say nothing about the version (403)", async () => {
    arm.serve(cloudError(403, "AuthorizationFailed", "The client does not have authorization to perform action."));
    const error = await probeAssociatedResourcesApi(arm.conn, IDENTITY, counting().options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArmError);
    expect((error as ArmError).code).toBe("AuthorizationFailed");
    expect(arm.server.requests).toHaveLength(1);
  });

  it("rejects a bad identity id or version list before any request", async () => {
    await expect(probeAssociatedResourcesApi(arm.conn, "/subscriptions/x/resourceGroups/rg")).rejects.toThrow(TypeError);
    await expect(probeAssociatedResourcesApi(arm.conn, IDENTITY, { versions: [] })).rejects.toThrow(/versions must be a non-empty array/);
    await expect(
      probeAssociatedResourcesApi(arm.conn, IDENTITY, { versions: ["2023-01-31" as never] }),
    ).rejects.toThrow(/unknown api-version "2023-01-31"/);
    expect(arm.server.requests).toHaveLength(0);
  });
});

describe("isApiGone", () => {
  const error = (status: number, code: string, armMessage = "", resourceId: string | undefined = IDENTITY): ArmError =>
    new ArmError({ operation: "listAssociatedResources", status, code, armMessage, ...(resourceId ? { resourceId } : {}) });

  it.each([
    ["InvalidApiVersionParameter", error(400, "InvalidApiVersionParameter"), true],
    ["NoRegisteredProviderFound", error(400, "NoRegisteredProviderFound"), true],
    ["InvalidResourceType (400)", error(400, "InvalidResourceType"), true],
    ["InvalidResourceType (404)", error(404, "InvalidResourceType"), true],
    ["a bare 404", error(404, "Http404"), true],
    ["ResourceNotFound naming the action", error(404, "ResourceNotFound", "The resource 'testid/listAssociatedResources' was not found."), true],
    ["ResourceNotFound for the identity", error(404, "ResourceNotFound", "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/testid' under resource group 'testrg' was not found."), false],
    ["ResourceGroupNotFound", error(404, "ResourceGroupNotFound", "Resource group 'testrg' could not be found."), false],
    ["SubscriptionNotFound", error(404, "SubscriptionNotFound"), false],
    ["a 429", error(429, "TooManyRequests"), false],
    ["a 500", error(500, "InternalServerError"), false],
    ["a 400 BadRequest", error(400, "BadRequest"), false],
  ])("%s → %s", (_what, e, expected) => {
    expect(isApiGone(e)).toBe(expected);
  });

  it("is false for anything that is not an ArmError", () => {
    expect(isApiGone(new Error("InvalidApiVersionParameter"))).toBe(false);
    expect(isApiGone({ code: "InvalidApiVersionParameter", status: 400 })).toBe(false);
    expect(isApiGone(undefined)).toBe(false);
  });
});
