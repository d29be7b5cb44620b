/**
 * listAssociatedResources against a local HTTPS server: paging the way Azure's example pages, malformed
 * bodies, throttling without hidden retries, CloudErrors, and the token kept out of every error.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ArmError, isNotFound, isThrottled, isTransient } from "../../src/arm/errors.js";
import { createArmConnection } from "../../src/arm/connection.js";
import { listAllAssociatedResources, listAssociatedResourcesPage } from "../../src/arm/associatedResources.js";
import type { AssociatedResourcesPage } from "../../src/arm/types.js";
import { example, paths } from "./support/fixtures.js";
import { queryOf, useArmTestServer, type Reply } from "./support/testServer.js";
import { rejectionOf } from "../helpers/rejection.js";

const TOKEN = "paging-token-3b9e51f2c7d84a06";
const IDENTITY =
  "/subscriptions/1cscb752-d7c9-463f-9731-fd31edada74a/resourceGroups/testrg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/testid";
const ACTION_PATH = `${IDENTITY}/listAssociatedResources`;

const arm = useArmTestServer(TOKEN);

async function allPages(query = {}, hook: () => Promise<void> = async () => {}): Promise<AssociatedResourcesPage[]> {
  const pages: AssociatedResourcesPage[] = [];
  for await (const page of listAllAssociatedResources(arm.conn, IDENTITY, query, hook)) pages.push(page);
  return pages;
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, ArmError);

const azureExample = example(paths.associatedExample2022);
const exampleBody = azureExample.responses["200"]?.body as Record<string, unknown>;
/** The example's nextLink sits beside `body` (a bug of the example); a real page carries it inside. */
const exampleNextLink = azureExample.responses["200"]?.nextLink as string;
const secondPage = {
  totalCount: 4,
  value: [3, 4].map((n) => ({
    id: `/subscriptions/1cscb752-d7c9-463f-9731-fd31edada74a/resourceGroups/testrg/providers/Microsoft.CognitiveServices/accounts/test${n}`,
    name: `test${n}`,
    type: "microsoft.cognitiveservices/accounts",
    resourceGroup: "testrg",
    subscriptionId: "1cscb752-d7c9-463f-9731-fd31edada74a",
    subscriptionDisplayName: "TestSubscription",
  })),
};

describe("paging like Azure's example (double-encoded skiptoken, odd nextLink)", () => {
  it("re-POSTs to the action with the token the server issued, and stops on a page without nextLink", async () => {
    arm.serve({ body: { ...exampleBody, nextLink: exampleNextLink } }, { body: secondPage });
    const query = { filter: "contains(name, 'test')", orderby: "name asc", top: 10, skip: 1 };
    const pages = await allPages(query);

    expect(pages.map((p) => p.value.map((r) => r.name))).toEqual([["test1", "test2"], ["test3", "test4"]]);
    expect(pages[0]?.nextSkipToken).toMatch(/fQ%3d%3d$/);
    expect(arm.server.requests).toHaveLength(2);

    const [first, second] = arm.server.requests;
    if (!first || !second) throw new Error("requests missing");
    for (const req of [first, second]) {
      expect(req.method).toBe("POST");
      expect(decodeURIComponent(req.path)).toBe(ACTION_PATH);
      expect(req.body).toBe("");
      // Not the nextLink's `2021-09-30`: the action's preview version.
      expect(queryOf(req).get("api-version")).toBe("2022-01-31-preview");
      expect(queryOf(req).get("$filter")).toBe("contains(name, 'test')");
      expect(queryOf(req).get("$orderby")).toBe("name asc");
      expect(queryOf(req).get("$top")).toBe("10");
    }
    expect(queryOf(first).get("$skip")).toBe("1");
    expect(queryOf(first).has("$skiptoken")).toBe(false);
    // The token holds the offset; repeating $skip would refetch the same page.
    expect(queryOf(second).has("$skip")).toBe(false);

    // On the wire, byte for byte what the nextLink carried; the server reads the value it put there.
    const issuedOnWire = /[?&]skiptoken=([^&]*)/.exec(exampleNextLink)?.[1];
    expect(issuedOnWire).toMatch(/%253d%253d$/);
    expect(second.rawQuery).toContain(`$skiptoken=${issuedOnWire}`);
    const received = queryOf(second).get("$skiptoken") ?? "";
    expect(received).toBe(decodeURIComponent(issuedOnWire ?? ""));
    const state = JSON.parse(Buffer.from(decodeURIComponent(received), "base64").toString("utf8")) as Record<string, unknown>;
    expect(state).toMatchObject({ MaxRows: 2, RowsToSkip: 2, KustoClusterUrl: "https://armtopology.kusto.windows.net" });
  });

  it.each([
    ["absent", {}],
    ["null", { nextLink: null }],
    ["empty", { nextLink: "" }],
  ])("ends when nextLink is %s", async (_what, extra) => {
    arm.serve({ body: { ...secondPage, ...extra } });
    const pages = await allPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.nextSkipToken).toBeUndefined();
    expect(arm.server.requests).toHaveLength(1);
  });

  it.each([
    ["skiptoken", "abc%253d"],
    ["$skiptoken", "abc%253d"],
    ["$skipToken", "abc%253d"],
    ["%24skipToken", "abc%253d"],
  ])("takes the token from a nextLink using %s", async (name, value) => {
    arm.serve({ body: { ...secondPage, nextLink: `https://management.azure.com${IDENTITY}?${name}=${value}&api-version=2021-09-30` } }, { body: secondPage });
    const pages = await allPages();
    expect(pages[0]?.nextSkipToken).toBe("abc%3d");
    expect(queryOf(arm.server.requests[1] ?? arm.server.requests[0]!).get("$skiptoken")).toBe("abc%3d");
  });

  it("calls beforeEachRequest before every request", async () => {
    const seen: number[] = [];
    arm.serve({ body: { ...exampleBody, nextLink: exampleNextLink } }, { body: secondPage });
    await allPages({}, async () => {
      seen.push(arm.server.requests.length);
    });
    expect(seen).toEqual([0, 1]);
  });

  it("stops with PagingLoop when the server hands back the same token", async () => {
    arm.serve({ body: { ...exampleBody, nextLink: exampleNextLink } });
    const error = await failure(allPages());
    expect(error.code).toBe("PagingLoop");
    expect(arm.server.requests).toHaveLength(2);
  });

  it("stops with TooManyPages after maxPages, each page with a new token", async () => {
    arm.server.setHandler((_req, i) => ({ body: { ...secondPage, nextLink: `https://management.azure.com${IDENTITY}?skiptoken=t${i}` } }));
    const pages: AssociatedResourcesPage[] = [];
    const listing = (async () => {
      for await (const page of listAllAssociatedResources(arm.conn, IDENTITY, {}, async () => {}, { maxPages: 3 })) pages.push(page);
    })();
    const error = await failure(listing);
    expect(error.code).toBe("TooManyPages");
    expect(pages).toHaveLength(3);
    expect(arm.server.requests).toHaveLength(3);
  });

  it("accepts totalCount as a numeric string", async () => {
    arm.serve({ body: { ...secondPage, totalCount: "4" } });
    const page = await listAssociatedResourcesPage(arm.conn, IDENTITY);
    expect(page.totalCount).toBe(4);
  });

  it("sends $top=0 (count only, as documented) and other api-versions on request", async () => {
    arm.serve({ body: { totalCount: 7 } });
    const page = await listAssociatedResourcesPage(arm.conn, IDENTITY, { top: 0 }, { apiVersion: "2023-07-31-preview" });
    expect(page).toEqual({ totalCount: 7, value: [] });
    expect(queryOf(arm.server.requests[0]!).get("$top")).toBe("0");
    expect(queryOf(arm.server.requests[0]!).get("api-version")).toBe("2023-07-31-preview");
  });
});

describe("malformed 200 bodies", () => {
  it.each<[string, Reply, RegExp]>([
    ["an HTML page", { headers: { "content-type": "text/html" }, body: "<html><body>Gateway</body></html>" }, /not valid JSON \(text\/html\).*<html>/],
    ["truncated JSON", { headers: { "content-type": "application/json" }, body: '{"totalCount":1,"value":[{"id":"/subs' }, /not valid JSON/],
    ["totalCount \"abc\"", { body: { totalCount: "abc", value: [] } }, /totalCount .*"abc"/],
    ["value not an array", { body: { totalCount: 1, value: { id: "x" } } }, /value must be an array/],
    ["an item without id", { body: { totalCount: 1, value: [{ name: "x", type: "t" }] } }, /value\[0\].*"id"/],
    ["an empty body", { body: "" }, /empty response body/],
  ])("%s gives a clear MalformedResponse ArmError", async (_what, reply, message) => {
    arm.serve(reply);
    const error = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(error.code).toBe("MalformedResponse");
    expect(error.operation).toBe("listAssociatedResources");
    expect(error.resourceId).toBe(IDENTITY);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`listAssociatedResources failed for ${IDENTITY}`);
  });
});

describe("errors and throttling (no hidden retries)", () => {
  it("429 with Retry-After: 3 gives retryAfterMs 3000 after exactly one request", async () => {
    arm.serve({ status: 429, headers: { "retry-after": "3" }, body: { error: { code: "TooManyRequests", message: "Too many requests" } } });
    const error = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(isThrottled(error)).toBe(true);
    expect(error.retryAfterMs).toBe(3000);
    expect(error.code).toBe("TooManyRequests");
    expect(arm.server.requests).toHaveLength(1);
  });

  it("429 with an HTTP-date Retry-After, and without one (1000 ms)", async () => {
    arm.serve({ status: 429, headers: { "retry-after": new Date(Date.now() + 5000).toUTCString() }, body: "" });
    const dated = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(dated.retryAfterMs).toBeGreaterThan(3000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(5000);
    arm.serve({ status: 429, body: "" });
    const bare = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(bare.retryAfterMs).toBe(1000);
    expect(arm.server.requests).toHaveLength(2);
  });

  it("a 429 inside listAllAssociatedResources is thrown, not retried", async () => {
    arm.serve({ body: { ...exampleBody, nextLink: exampleNextLink } }, { status: 429, headers: { "retry-after": "1" }, body: "" });
    const error = await failure(allPages());
    expect(error.retryAfterMs).toBe(1000);
    expect(arm.server.requests).toHaveLength(2);
  });

  it("404 CloudError surfaces code and message", async () => {
    arm.serve({
      status: 404,
      body: { error: { code: "ResourceNotFound", message: "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/testid' under resource group 'testrg' was not found." } },
    });
    const error = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(isNotFound(error)).toBe(true);
    expect(error.status).toBe(404);
    expect(error.code).toBe("ResourceNotFound");
    expect(error.armMessage).toContain("was not found");
    expect(error.message).toBe(`listAssociatedResources failed for ${IDENTITY}: 404 ResourceNotFound: ${error.armMessage}`);
  });

  it("401 CloudError surfaces code and message and never the token, even when the server echoes it", async () => {
    arm.server.setHandler((req) => ({
      status: 401,
      body: { error: { code: "InvalidAuthenticationToken", message: `The access token is invalid: ${String(req.headers.authorization)}`, details: [{ code: "Echo", message: `token ${TOKEN}` }] } },
    }));
    const error = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(error.status).toBe(401);
    expect(error.code).toBe("InvalidAuthenticationToken");
    expect(error.armMessage).toContain("The access token is invalid");
    for (const text of [error.message, String(error), error.stack ?? "", JSON.stringify(error), inspect(error, { depth: 5 })]) {
      expect(text).not.toContain(TOKEN);
    }
  });

  it("a 503 is transient and not retried", async () => {
    arm.serve({ status: 503, headers: { "content-type": "text/html" }, body: "<html>Service Unavailable</html>" });
    const error = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(isTransient(error)).toBe(true);
    expect(error.code).toBe("Http503");
    expect(error.message).toContain("non-JSON response body (text/html)");
    expect(arm.server.requests).toHaveLength(1);
  });

  it("a reset connection is a transient network ArmError after one attempt", async () => {
    arm.serve({ destroy: true });
    const error = await failure(listAssociatedResourcesPage(arm.conn, IDENTITY));
    expect(error.status).toBe(0);
    expect(isTransient(error)).toBe(true);
    expect(error.message).toContain("network error");
    expect(arm.server.requests).toHaveLength(1);
  });

  it("an untrusted certificate fails without retry and is not transient", async () => {
    const untrusting = createArmConnection({ endpoint: arm.server.endpoint, token: TOKEN });
    const error = await failure(listAssociatedResourcesPage(untrusting, IDENTITY));
    expect(error.status).toBe(0);
    expect(isTransient(error)).toBe(false);
    expect(error.message).not.toContain(TOKEN);
  });

});

describe("identity ids with unusual names", () => {
  it("percent-encodes each segment so the server sees the names unchanged", async () => {
    // Lower-case fixed segments as ARM returns them (PowerShell recording), a dotted resource group with
    // parentheses and a Unicode name.
    const unusual =
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg.(prod)_ü/providers/microsoft.managedidentity/userassignedidentities/id-ü_1";
    arm.serve({ body: { totalCount: 0, value: [] } });
    await listAssociatedResourcesPage(arm.conn, unusual);
    const req = arm.server.requests[0];
    if (!req) throw new Error("no request");
    expect(req.path).toContain("rg.(prod)_%C3%BC");
    expect(decodeURIComponent(req.path)).toBe(
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg.(prod)_ü/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ü_1/listAssociatedResources",
    );
  });

  it.each([
    "/subscriptions/x/resourceGroups/rg",
    `${IDENTITY}?api-version=1`,
    `${IDENTITY}/federatedIdentityCredentials/f`,
    IDENTITY.replace("/testid", "/.."),
  ])("rejects %s before any request", async (id) => {
    await expect(listAssociatedResourcesPage(arm.conn, id)).rejects.toThrow(/Not a user-assigned identity id/);
    expect(arm.server.requests).toHaveLength(0);
  });
});
