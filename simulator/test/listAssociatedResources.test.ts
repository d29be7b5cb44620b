/**
 * Conformance of `POST .../listAssociatedResources` over real HTTPS: $skip and $top, paging, the odd
 * nextLink of Microsoft's example, the empty-result shape of the CLI recording, and the errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AssociatedResource } from "../../src/arm/types.js";
import type { IdentityTruth } from "../groundTruth.js";
import type { RunningSimulator } from "../index.js";
import { decodeSkipToken, skipTokenForLink } from "../listAssociatedResources.js";
import { clientFor, GET_API, listUrl, pathOf, startFast } from "./fixture.js";
import type { SimClient, SimResponse } from "./httpsClient.js";

let sim: RunningSimulator;
let client: SimClient;
let heavy: IdentityTruth;
let heavyAssociations: AssociatedResource[];
let unused: IdentityTruth;

const ids = (items: AssociatedResource[]) => items.map((i) => i.id);
const f = (text: string) => `$filter=${encodeURIComponent(text)}`;

beforeAll(async () => {
  sim = await startFast({ identities: 40, seed: "list-conformance" });
  client = clientFor(sim);
  const tenant = sim.truth.tenants[0]!;
  heavy = [...tenant.identities].sort((a, b) => b.associationCount - a.associationCount)[0]!;
  heavyAssociations = sim.truth.associationsOf(heavy.id);
  unused = tenant.unusedIdentities()[0]!;
});

afterAll(async () => {
  client.close();
  await sim.close();
});

async function listAll(identity: IdentityTruth, query = ""): Promise<{ items: AssociatedResource[]; pages: SimResponse[] }> {
  const pages: SimResponse[] = [];
  let response = await client.post(listUrl(identity, query));
  for (;;) {
    expect(response.status).toBe(200);
    pages.push(response);
    if (!("nextLink" in response.body)) break;
    response = await client.post(response.body.nextLink as string);
  }
  return { items: pages.flatMap((p) => p.body.value as AssociatedResource[]), pages };
}

describe("listAssociatedResources: bodies", () => {
  it("answers an unused identity exactly as the CLI recording: no nextLink key", async () => {
    const response = await client.post(listUrl(unused));
    expect(response.status).toBe(200);
    expect(response.text).toBe('{"totalCount":0,"value":[]}');
  });

  it("returns items with the six AzureResource fields, type and resourceGroup lower-cased", async () => {
    const response = await client.post(listUrl(heavy, "$top=5"));
    expect(response.status).toBe(200);
    expect(response.body.totalCount).toBe(heavy.associationCount);
    for (const item of response.body.value as AssociatedResource[]) {
      expect(Object.keys(item)).toEqual(["id", "name", "type", "resourceGroup", "subscriptionId", "subscriptionDisplayName"]);
      expect(item.type).toBe(item.type.toLowerCase());
      expect(item.resourceGroup).toBe(item.resourceGroup.toLowerCase());
      expect(item.id).toMatch(/^\/subscriptions\/[0-9a-f-]{36}\/(resourceGroups\/[^/]+\/)?providers\/[A-Za-z.]+\/[A-Za-z]+\/[^/]+$/);
    }
  });

  it("serves the first page of the default size (100) without $top", async () => {
    const response = await client.post(listUrl(heavy));
    expect(response.body.value).toHaveLength(100);
    expect(ids(response.body.value as AssociatedResource[])).toEqual(ids(heavyAssociations.slice(0, 100)));
  });

  it("sends the ARM headers of the recording", async () => {
    const response = await client.post(listUrl(heavy, "$top=1"));
    expect(response.headers["x-ms-ratelimit-remaining-subscription-reads"]).toMatch(/^\d+$/);
    expect(response.headers["x-ms-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers["x-ms-correlation-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("accepts the three preview api-versions that have the action", async () => {
    for (const apiVersion of ["2021-09-30-preview", "2022-01-31-preview", "2023-07-31-preview"]) {
      const response = await client.post(listUrl(heavy, "$top=1", apiVersion));
      expect(response.status).toBe(200);
    }
  });

  it("lists identities with hostile names (URL-encoded as the SDK does)", async () => {
    const hostile = sim.truth.tenants[0]!.identities.filter((i) => ["0_-", "a1b"].includes(i.name) || /[^\x20-\x7e]/.test(i.resourceGroupName));
    expect(hostile.length).toBeGreaterThan(0);
    for (const identity of hostile) {
      const response = await client.post(listUrl(identity, "$top=0"));
      expect(response.status).toBe(200);
      expect(response.body.totalCount).toBe(identity.associationCount);
    }
  });
});

describe("listAssociatedResources: $filter and $orderby (not implemented), $skip, $top", () => {
  it.each([
    ["$filter", f("type eq 'microsoft.web/sites'")],
    ["$orderby", `$orderby=${encodeURIComponent("name asc")}`],
    ["$orderby", `$orderBy=${encodeURIComponent("name desc")}`],
  ])("answers 400 naming the simulator to %s, rather than an unfiltered list", async (parameter, query) => {
    const response = await client.post(listUrl(heavy, query));
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "BadRequest", target: parameter });
    expect(response.body.error.message).toContain("simulator does not implement");
  });

  it("skips with $skip (0 accepted) and limits with $top", async () => {
    const response = await client.post(listUrl(heavy, "$skip=5&$top=3"));
    expect(ids(response.body.value as AssociatedResource[])).toEqual(ids(heavyAssociations.slice(5, 8)));
    const zero = await client.post(listUrl(heavy, "$skip=0&$top=2"));
    expect(ids(zero.body.value as AssociatedResource[])).toEqual(ids(heavyAssociations.slice(0, 2)));
  });

  it("returns only totalCount for $top=0, without nextLink", async () => {
    const response = await client.post(listUrl(heavy, "$top=0"));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ totalCount: heavy.associationCount, value: [] });
  });

  it("caps a page at 100 items", async () => {
    const response = await client.post(listUrl(heavy, "$top=500"));
    expect(response.body.value).toHaveLength(100);
    expect(response.body.nextLink).toBeDefined();
  });

  it.each(["-1", "abc", "1.5"])("answers 400 to $top=%s", async (top) => {
    const response = await client.post(listUrl(heavy, `$top=${top}`));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("BadRequest");
  });
});

describe("listAssociatedResources: paging and nextLink", () => {
  it("encodes the token exactly as Microsoft's example (MaxRows 2, RowsToSkip 2)", () => {
    expect(skipTokenForLink({ maxRows: 2, rowsToSkip: 2 })).toBe(
      "ew0KICAiJGlkIjogIjEiLA0KICAiTWF4Um93cyI6IDIsDQogICJSb3dzVG9Ta2lwIjogMiwNCiAgIkt1c3RvQ2x1c3RlclVybCI6ICJodHRwczovL2FybXRvcG9sb2d5Lmt1c3RvLndpbmRvd3MubmV0Ig0KfQ%253d%253d",
    );
    expect(decodeSkipToken("ew0KICAiJGlkIjogIjEiLA0KICAiTWF4Um93cyI6IDIsDQogICJSb3dzVG9Ta2lwIjogMiwNCiAgIkt1c3RvQ2x1c3RlclVybCI6ICJodHRwczovL2FybXRvcG9sb2d5Lmt1c3RvLndpbmRvd3MubmV0Ig0KfQ%3d%3d")).toEqual({
      maxRows: 2,
      rowsToSkip: 2,
    });
  });

  it("shapes nextLink like the example: identity URL, skiptoken=, double-encoded token, api-version without -preview", async () => {
    // $top=2 as in the example: its token's base64 ends in "==", so the double encoding shows.
    const response = await client.post(listUrl(heavy, "$top=2", "2021-09-30-preview"));
    const nextLink = response.body.nextLink as string;
    expect(nextLink.startsWith(`${sim.endpoint}${pathOf(heavy)}?skiptoken=`)).toBe(true);
    expect(nextLink).not.toContain("/listAssociatedResources");
    expect(nextLink).not.toContain("$skiptoken");
    expect(nextLink).toMatch(/&api-version=2021-09-30$/);
    const raw = /[?&]skiptoken=([^&]+)/.exec(nextLink)![1]!;
    expect(raw).toMatch(/^[A-Za-z0-9%]+$/);
    const base64 = decodeURIComponent(decodeURIComponent(raw));
    const json = Buffer.from(base64, "base64").toString("utf8");
    expect(json).toBe('{\r\n  "$id": "1",\r\n  "MaxRows": 2,\r\n  "RowsToSkip": 2,\r\n  "KustoClusterUrl": "https://armtopology.kusto.windows.net"\r\n}');
    expect(raw).toMatch(/%253d%253d$/);
    const later = await client.post(listUrl(heavy, "$top=10", "2023-07-31-preview"));
    expect(later.body.nextLink).toMatch(/&api-version=2023-07-31$/);
  });

  it("pages to the end by POSTing the nextLink verbatim, without gaps or duplicates, and omits nextLink on the last page", async () => {
    const { items, pages } = await listAll(heavy);
    expect(pages.length).toBe(Math.ceil(heavy.associationCount / 100));
    expect(ids(items)).toEqual(ids(heavyAssociations));
    expect(new Set(ids(items)).size).toBe(heavy.associationCount);
    for (const page of pages) expect(page.body.totalCount).toBe(heavy.associationCount);
    expect("nextLink" in pages[pages.length - 1]!.body).toBe(false);
  });

  it("pages by sending the token back as $skiptoken, $skipToken or skiptoken on the action, with $top resent", async () => {
    for (const name of ["$skiptoken", "$skipToken", "skiptoken"]) {
      const collected: AssociatedResource[] = [];
      let token: string | undefined;
      do {
        const response = await client.post(listUrl(heavy, `$top=37${token ? `&${name}=${encodeURIComponent(token)}` : ""}`));
        expect(response.status).toBe(200);
        collected.push(...(response.body.value as AssociatedResource[]));
        // A client decodes the query string once, as URLSearchParams does.
        token = response.body.nextLink ? (new URL(response.body.nextLink as string).searchParams.get("skiptoken") ?? undefined) : undefined;
      } while (token);
      expect(ids(collected)).toEqual(ids(heavyAssociations));
    }
  });

  it("rejects a skiptoken that is not one of its own", async () => {
    const response = await client.post(listUrl(heavy, "$skiptoken=not-a-token"));
    expect(response.status).toBe(400);
  });

  it("does not serve the nextLink as an identity GET (its api-version does not exist for the type)", async () => {
    const first = await client.post(listUrl(heavy, "$top=10"));
    const response = await client.get(first.body.nextLink as string);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("NoRegisteredProviderFound");
  });
});

describe("listAssociatedResources: errors", () => {
  it("answers 404 ResourceNotFound with ARM's message for a missing identity", async () => {
    const path = `/subscriptions/${heavy.subscriptionId}/resourceGroups/${encodeURIComponent(heavy.resourceGroupName)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nobody-here/listAssociatedResources?api-version=2022-01-31-preview`;
    const response = await client.post(path);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      error: {
        code: "ResourceNotFound",
        message: `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/nobody-here' under resource group '${heavy.resourceGroupName}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      },
    });
  });

  it("answers 404 ResourceGroupNotFound and SubscriptionNotFound as ARM does", async () => {
    const noGroup = await client.post(`/subscriptions/${heavy.subscriptionId}/resourceGroups/no-such-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x/listAssociatedResources?api-version=2022-01-31-preview`);
    expect(noGroup.status).toBe(404);
    expect(noGroup.body.error.code).toBe("ResourceGroupNotFound");
    const noSubscription = await client.post(
      `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x/listAssociatedResources?api-version=2022-01-31-preview`,
    );
    expect(noSubscription.status).toBe(404);
    expect(noSubscription.body.error.code).toBe("SubscriptionNotFound");
  });

  it("answers 400 to api-versions without the action (2023-01-31 included) and to a missing api-version", async () => {
    const stable = await client.post(listUrl(heavy, "", "2023-01-31"));
    expect(stable.status).toBe(400);
    expect(stable.body.error.code).toBe("InvalidResourceType");
    const unknown = await client.post(listUrl(heavy, "", "2099-01-01"));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("NoRegisteredProviderFound");
    const missing = await client.post(`${pathOf(heavy)}/listAssociatedResources`);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe("MissingApiVersionParameter");
  });

  it("answers 405 to a GET on the action", async () => {
    const response = await client.get(listUrl(heavy));
    expect(response.status).toBe(405);
  });

  it("is a POST with an empty body (Content-Length 0) and ignores a body if one is sent", async () => {
    const empty = await client.post(listUrl(heavy, "$top=1"));
    const withBody = await client.post(listUrl(heavy, "$top=1"), { body: {} });
    expect(empty.body).toEqual(withBody.body);
  });
});

describe("listAssociatedResources: tenants above 5,000 subscriptions", () => {
  it("answers 400 TenantSubscriptionLimitExceeded while other operations work", async () => {
    const big = await startFast({ identities: 12, seed: "many-subscriptions", subscriptionsPerTenant: 5001 });
    const bigClient = clientFor(big);
    try {
      const identity = big.truth.tenants[0]!.identities[6]!;
      const response = await bigClient.post(listUrl(identity));
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("TenantSubscriptionLimitExceeded");
      expect(response.body.error.message).toMatch(/5,000 subscriptions/);
      expect(response.body.error.message).toMatch(/5001/);
      const get = await bigClient.get(`${pathOf(identity)}?api-version=${GET_API}`);
      expect(get.status).toBe(200);
    } finally {
      bigClient.close();
      await big.close();
    }
  });

  it("allows exactly 5,000 subscriptions", async () => {
    const edge = await startFast({ identities: 12, seed: "edge-subscriptions", subscriptionsPerTenant: 5000 });
    const edgeClient = clientFor(edge);
    try {
      const response = await edgeClient.post(listUrl(edge.truth.tenants[0]!.identities[6]!));
      expect(response.status).toBe(200);
    } finally {
      edgeClient.close();
      await edge.close();
    }
  });
});
