/**
 * listIdentityCreatedTimes against a local HTTPS server answering with the shapes of ARM's `Resources_List`
 * (resources.json 2021-04-01; its example's `{}` body; the real nextLink form of keyvault's listVault.json).
 */
import { describe, expect, it } from "vitest";
import { ArmError, isNotFound, isThrottled } from "../../src/arm/errors.js";
import {
  isIsoDateTime,
  listIdentityCreatedTimes,
  type CreatedTimesWait,
  type IdentityCreatedTime,
  type ListCreatedTimesOptions,
} from "../../src/arm/createdTimes.js";
import { example, paths } from "./support/fixtures.js";
import { queryOf, useArmTestServer } from "./support/testServer.js";
import { rejectionOf } from "../helpers/rejection.js";

const TOKEN = "created-times-token-5e2a9c41";
const SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const LIST_PATH = `/subscriptions/${SUB}/resources`;
const FIRST_QUERY =
  "$filter=resourceType%20eq%20%27Microsoft.ManagedIdentity%2FuserAssignedIdentities%27&$expand=createdTime&api-version=2021-04-01";

const arm = useArmTestServer(TOKEN);

function identityItem(name: string, createdTime?: unknown): Record<string, unknown> {
  // GenericResourceExpanded as ARM lists it: ids with `resourcegroups` lower-cased (PowerShell recording).
  return {
    id: `/subscriptions/${SUB}/resourcegroups/rg-ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
    name,
    type: "Microsoft.ManagedIdentity/userAssignedIdentities",
    location: "westeurope",
    tags: {},
    ...(createdTime === undefined ? {} : { createdTime }),
  };
}

function created(name: string, createdTime: string): IdentityCreatedTime {
  return { id: identityItem(name).id as string, createdTime };
}

async function collect(options: ListCreatedTimesOptions = {}, subscriptionId = SUB): Promise<IdentityCreatedTime[][]> {
  const pages: IdentityCreatedTime[][] = [];
  for await (const page of listIdentityCreatedTimes(arm.conn, subscriptionId, options)) pages.push(page);
  return pages;
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, ArmError);

const vaultPage = example(paths.vaultsListExample).responses["200"]?.body as { nextLink: string; value: unknown[] };

describe("the request", () => {
  it("GETs the subscription's resource list filtered to identities, with $expand=createdTime at 2021-04-01", async () => {
    arm.serve({ body: { value: [identityItem("id-a", "2021-03-25T10:11:12.3456789Z")] } });
    const pages = await collect();
    expect(pages).toEqual([[created("id-a", "2021-03-25T10:11:12.3456789Z")]]);
    expect(arm.server.requests).toHaveLength(1);
    const [req] = arm.server.requests;
    expect(req?.method).toBe("GET");
    expect(req?.path).toBe(LIST_PATH);
    // Spaces as %20 (never +, which OData would read literally), quotes as %27, the type's slash as %2F.
    expect(req?.rawQuery).toBe(FIRST_QUERY);
    expect(queryOf(req!).get("$filter")).toBe("resourceType eq 'Microsoft.ManagedIdentity/userAssignedIdentities'");
    expect(req?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it.each([
    ["not a GUID", "my-subscription"],
    ["a path", `${SUB}/resourceGroups/x`],
    ["empty", ""],
  ])("rejects a subscription id that is %s with a TypeError naming it, before any request", async (_what, bad) => {
    const error = await collect({}, bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^listIdentityCreatedTimes: subscriptionId must be a subscription GUID/);
    expect(arm.server.requests).toHaveLength(0);
  });
});

describe("paging", () => {
  it("follows Azure's absolute nextLink on our own endpoint, byte for byte, never on its host", async () => {
    // listVault.json: the same Resources_List call, a link to management.azure.com with %24 names and + for spaces.
    const link = vaultPage.nextLink;
    arm.serve(
      { body: { value: [identityItem("id-a", "2021-03-25T10:11:12.3456789Z")], nextLink: link } },
      { body: { value: [identityItem("id-b", "2023-11-02T08:00:00Z")] } },
    );
    const pages = await collect();
    expect(pages).toEqual([[created("id-a", "2021-03-25T10:11:12.3456789Z")], [created("id-b", "2023-11-02T08:00:00Z")]]);
    expect(arm.server.requests).toHaveLength(2);
    const second = arm.server.requests[1];
    expect(second?.path).toBe("/subscriptions/00000000-0000-0000-0000-000000000000/resources");
    expect(second?.rawQuery).toBe(link.slice(link.indexOf("?") + 1));
    expect(second?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("follows a nextLink on our endpoint with $skiptoken and adds the api-version when the link has none", async () => {
    arm.serve(
      { body: { value: [], nextLink: `${arm.server.endpoint}${LIST_PATH}?$skiptoken=page2` } },
      { body: { value: [identityItem("id-c", "2024-01-01T00:00:00+01:00")] } },
    );
    const pages = await collect();
    // The empty first page (page sizes are not deterministic) is followed, not yielded.
    expect(pages).toEqual([[created("id-c", "2024-01-01T00:00:00+01:00")]]);
    expect(arm.server.requests[1]?.path).toBe(LIST_PATH);
    expect(arm.server.requests[1]?.rawQuery).toBe("$skiptoken=page2&api-version=2021-04-01");
  });

  it("stops with PagingLoop on a repeated nextLink", async () => {
    const link = `${arm.server.endpoint}${LIST_PATH}?api-version=2021-04-01&$skiptoken=same`;
    arm.serve({ body: { value: [identityItem("id-a", "2021-01-01T00:00:00Z")], nextLink: link } });
    const error = await failure(collect());
    expect(error.code).toBe("PagingLoop");
    expect(error.operation).toBe("listIdentityCreatedTimes");
    expect(error.resourceId).toBe(`/subscriptions/${SUB}`);
    expect(error.message).toBe(`listIdentityCreatedTimes failed for /subscriptions/${SUB}: 200 PagingLoop: the service returned the same nextLink twice after 2 pages`);
    expect(arm.server.requests).toHaveLength(2);
  });

  it("stops with TooManyPages after maxPages", async () => {
    arm.server.setHandler((_req, i) => ({ body: { value: [], nextLink: `${LIST_PATH}?api-version=2021-04-01&$skiptoken=${i}` } }));
    const error = await failure(collect({ maxPages: 3 }));
    expect(error.code).toBe("TooManyPages");
    expect(arm.server.requests).toHaveLength(3);
  });
});

describe("tolerant parsing", () => {
  it("skips items without a readable createdTime, or that are not identities, and says why", async () => {
    const skipped: string[] = [];
    arm.serve({
      body: {
        value: [
          identityItem("no-time"),
          identityItem("null-time", null),
          identityItem("bad-time", "yesterday"),
          identityItem("feb-30", "2021-02-30T10:00:00Z"),
          identityItem("good", "2022-06-01T12:00:00.1234567Z"),
          { ...identityItem("vm", "2022-06-01T12:00:00Z"), id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm` },
          "not an object",
        ],
      },
    });
    const pages = await collect({ onSkipped: (_item, reason) => skipped.push(reason) });
    expect(pages).toEqual([[created("good", "2022-06-01T12:00:00.1234567Z")]]);
    expect(skipped).toEqual([
      `value[0]: no createdTime for ${identityItem("no-time").id as string}`,
      `value[1]: no createdTime for ${identityItem("null-time").id as string}`,
      `value[2]: createdTime of ${identityItem("bad-time").id as string} is not an ISO 8601 date-time: "yesterday"`,
      `value[3]: createdTime of ${identityItem("feb-30").id as string} is not an ISO 8601 date-time: "2021-02-30T10:00:00Z"`,
      `value[5]: not a user-assigned identity id: /subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm`,
      'value[6]: not an object: "not an object"',
    ]);
  });

  it("reads the Resources_List example's body {} as an empty last page", async () => {
    const body = example(paths.resourcesListExample).responses["200"]?.body as object;
    expect(body).toEqual({});
    arm.serve({ body });
    await expect(collect()).resolves.toEqual([]);
    expect(arm.server.requests).toHaveLength(1);
  });

  it("a value that is not an array is a MalformedResponse, not retried", async () => {
    arm.serve({ body: { value: { id: "x" } } });
    const error = await failure(collect());
    expect(error.code).toBe("MalformedResponse");
    expect(error.armMessage).toBe('value must be an array, got {"id":"x"}');
    expect(arm.server.requests).toHaveLength(1);
  });
});

describe("retries", () => {
  it("waits Retry-After after a 429, then asks for the same page again", async () => {
    arm.serve(
      { status: 429, headers: { "retry-after": "0.05" }, body: { error: { code: "TooManyRequests", message: "slow down" } } },
      { body: { value: [identityItem("id-a", "2021-03-25T10:11:12Z")] } },
    );
    const waits: CreatedTimesWait[] = [];
    const pages = await collect({ onWait: (w) => waits.push(w) });
    expect(pages).toEqual([[created("id-a", "2021-03-25T10:11:12Z")]]);
    expect(waits).toEqual([{ reason: "throttled", waitMs: 50, attempt: 2 }]);
    expect(arm.server.requests.map((r) => r.rawQuery)).toEqual([FIRST_QUERY, FIRST_QUERY]);
    const [first, second] = arm.server.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(45);
  });

  it("retries 5xx and a dropped connection with backoff", async () => {
    arm.serve(
      { status: 503, body: { error: { code: "ServiceUnavailable", message: "try later" } } },
      { destroy: true },
      { body: { value: [identityItem("id-a", "2021-03-25T10:11:12Z")] } },
    );
    const waits: CreatedTimesWait[] = [];
    const pages = await collect({ retryDelayMs: 0, onWait: (w) => waits.push(w) });
    expect(pages).toHaveLength(1);
    expect(waits.map((w) => [w.reason, w.attempt])).toEqual([
      ["transient", 2],
      ["transient", 3],
    ]);
  });

  it("gives up after maxRetries with the last ArmError", async () => {
    arm.serve({ status: 500, body: { error: { code: "InternalServerError", message: "boom" } } });
    const error = await failure(collect({ maxRetries: 2, retryDelayMs: 0 }));
    expect(error.status).toBe(500);
    expect(error.code).toBe("InternalServerError");
    expect(arm.server.requests).toHaveLength(3);
  });

  it("throws a 429 asking for longer than maxWaitMs without waiting", async () => {
    arm.serve({ status: 429, headers: { "retry-after": "120" }, body: { error: { code: "TooManyRequests", message: "later" } } });
    const error = await failure(collect({ maxWaitMs: 1000 }));
    expect(isThrottled(error)).toBe(true);
    expect(error.retryAfterMs).toBe(120_000);
    expect(arm.server.requests).toHaveLength(1);
  });

  it("does not retry a 404 SubscriptionNotFound", async () => {
    arm.serve({ status: 404, body: { error: { code: "SubscriptionNotFound", message: `The subscription '${SUB}' could not be found.` } } });
    const error = await failure(collect());
    expect(isNotFound(error)).toBe(true);
    expect(error.message).toBe(
      `listIdentityCreatedTimes failed for /subscriptions/${SUB}: 404 SubscriptionNotFound: The subscription '${SUB}' could not be found.`,
    );
    expect(arm.server.requests).toHaveLength(1);
  });
});

describe("isIsoDateTime", () => {
  it.each([
    ["2021-03-25T10:11:12Z", true],
    ["2021-03-25T10:11:12.3456789Z", true],
    ["2021-03-25T10:11:12.5+05:30", true],
    ["2024-02-29T00:00:00Z", true],
    ["2023-02-29T00:00:00Z", false],
    ["2021-03-25 10:11:12Z", false],
    ["2021-03-25T10:11:12", false],
    ["2021-03-25T24:00:00Z", false],
    ["2021-13-01T00:00:00Z", false],
    ["", false],
  ])("%s → %s", (value, expected) => {
    expect(isIsoDateTime(value)).toBe(expected);
  });

  it("rejects non-strings", () => {
    expect(isIsoDateTime(1616667072000)).toBe(false);
    expect(isIsoDateTime(null)).toBe(false);
  });
});
