/**
 * Contract tests: every reference example and recording about associated resources, identity GET/list,
 * FIC list and Resource Graph goes through the client's pure parsers (copies in test/fixtures, origins in
 * test/fixtures/README.md).
 */
import { describe, expect, it } from "vitest";
import {
  associatedResourcesUrl,
  ASSOCIATED_RESOURCES_API_VERSIONS,
  DEFAULT_ASSOCIATED_RESOURCES_API_VERSION,
  parseAssociatedResource,
  parseAssociatedResourcesPage,
  skipTokenFromNextLink,
} from "../../src/arm/associatedResources.js";
import {
  IDENTITY_API_VERSION,
  nextLinkOnEndpoint,
  parseFederatedCredential,
  parseFederatedCredentialsPage,
  parseIdentity,
  parseIdentityListPage,
} from "../../src/arm/identities.js";
import { parseErrorBody } from "../../src/arm/errors.js";
import { parseIdentityId, sameResourceId } from "../../src/arm/resourceId.js";
import { parseResourceGraphResponse } from "../../src/arm/resourceGraph.js";
import {
  cliInteractions,
  example,
  fixtureJson,
  fixtureText,
  jsonAfter,
  paths,
  psEntries,
} from "./support/fixtures.js";

interface Swagger {
  paths: Record<string, Record<string, { operationId?: string; parameters?: { $ref?: string; name?: string }[] }>>;
  parameters: Record<string, { name: string; in: string; minimum?: number }>;
  definitions: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
}

const LIST_ASSOCIATED = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}/listAssociatedResources";

describe("swagger: UserAssignedIdentities_ListAssociatedResources (2022-01-31-preview)", () => {
  const swagger = fixtureJson<Swagger>(paths.swaggerPreview);
  const operation = swagger.paths[LIST_ASSOCIATED]?.post;
  const queryNames = (operation?.parameters ?? [])
    .map((p) => (p.$ref ? swagger.parameters[p.$ref.split("/").pop() ?? ""] : undefined))
    .filter((p) => p?.in === "query")
    .map((p) => p?.name ?? "");

  it("is a POST action with the query parameters the client sends", () => {
    expect(operation?.operationId).toBe("UserAssignedIdentities_ListAssociatedResources");
    expect(queryNames).toEqual(["$filter", "$orderby", "$top", "$skip", "$skipToken", "api-version"]);
    const url = new URL(
      associatedResourcesUrl("https://management.azure.com", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/n", {
        filter: "contains(name, 'test')",
        orderby: "name asc",
        top: 10,
        skip: 1,
        skipToken: "t",
      }),
    );
    const sentNames = [...url.searchParams.keys()].map((k) => k.toLowerCase());
    expect(sentNames.sort()).toEqual(queryNames.map((n) => n.toLowerCase()).sort());
    expect(url.pathname).toBe("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/n/listAssociatedResources");
  });

  it("defines the result the parser reads", () => {
    expect(Object.keys(swagger.definitions.AssociatedResourcesListResult?.properties ?? {})).toEqual(["totalCount", "value", "nextLink"]);
    expect(Object.keys(swagger.definitions.AzureResource?.properties ?? {})).toEqual([
      "id", "name", "type", "resourceGroup", "subscriptionId", "subscriptionDisplayName",
    ]);
  });

  it("is absent from the stable 2023-01-31 API, which is why a preview version is used", () => {
    const stable = fixtureJson<Swagger>(paths.swaggerStable);
    expect(Object.keys(stable.paths).some((p) => p.endsWith("/listAssociatedResources"))).toBe(false);
    expect(ASSOCIATED_RESOURCES_API_VERSIONS).toContain(DEFAULT_ASSOCIATED_RESOURCES_API_VERSION);
    expect(DEFAULT_ASSOCIATED_RESOURCES_API_VERSION).toBe("2022-01-31-preview");
  });

  it("is still an RBAC action in 2025 (arm-msi operations recording)", () => {
    const recording = fixtureJson<{ Entries: { ResponseBody: { value: { name: string }[] } }[] }>(paths.sdkOperations);
    const names = recording.Entries.flatMap((e) => e.ResponseBody.value.map((o) => o.name));
    expect(names).toContain("Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action");
  });
});

describe("listAssociatedResources examples", () => {
  it.each(paths.associatedExamples.map((p) => [p.split("/").slice(-3).join("/"), p]))("%s parses", (_name, path) => {
    const ex = example(path);
    const body = ex.responses["200"]?.body;
    const page = parseAssociatedResourcesPage(body);
    expect(page.totalCount).toBe(4);
    expect(page.value.map((r) => r.name)).toEqual(["test1", "test2"]);
    expect(page.value[0]).toEqual({
      id: "/subscriptions/1cscb752-d7c9-463f-9731-fd31edada74a/resourceGroups/testrg/providers/Microsoft.CognitiveServices/accounts/test1",
      name: "test1",
      type: "microsoft.cognitiveservices/accounts",
      resourceGroup: "testrg",
      subscriptionId: "1cscb752-d7c9-463f-9731-fd31edada74a",
      subscriptionDisplayName: "TestSubscription",
    });
    // The example's nextLink sits beside `body`, so the body alone is a last page.
    expect(page.nextSkipToken).toBeUndefined();
    // Put where a real response has it, it yields the token decoded exactly once.
    const nextLink = ex.responses["200"]?.nextLink ?? "";
    const withLink = parseAssociatedResourcesPage({ ...(body as object), nextLink });
    expect(nextLink).toContain("%253d%253d");
    expect(withLink.nextSkipToken).toBe(
      "ew0KICAiJGlkIjogIjEiLA0KICAiTWF4Um93cyI6IDIsDQogICJSb3dzVG9Ta2lwIjogMiwNCiAgIkt1c3RvQ2x1c3RlclVybCI6ICJodHRwczovL2FybXRvcG9sb2d5Lmt1c3RvLndpbmRvd3MubmV0Ig0KfQ%3d%3d",
    );
    // The example's whole response record (nextLink beside body) reads as the same page.
    expect(parseAssociatedResourcesPage(ex.responses["200"])).toEqual(withLink);
    const decoded = Buffer.from(decodeURIComponent(withLink.nextSkipToken ?? ""), "base64").toString("utf8");
    expect(JSON.parse(decoded)).toEqual({ $id: "1", MaxRows: 2, RowsToSkip: 2, KustoClusterUrl: "https://armtopology.kusto.windows.net" });
  });

  it("the 2021-09-30-preview Get variant sends totalCount as the string \"4\"", () => {
    const body = example(paths.associatedExamples[1]).responses["200"]?.body as { totalCount: unknown };
    expect(body.totalCount).toBe("4");
    expect(parseAssociatedResourcesPage(body).totalCount).toBe(4);
  });

  it("the docs page's sample response and CLI output parse", () => {
    const docs = fixtureText(paths.docsAssociated);
    const sample = jsonAfter(docs, "Notice a sample response from the REST API:");
    const page = parseAssociatedResourcesPage(sample);
    expect(page.totalCount).toBe(2);
    expect(page.nextSkipToken).toMatch(/fQ%3d%3d$/);
    const cliOutput = jsonAfter(docs, "The response will look like this:") as unknown[];
    expect(cliOutput.map((item, i) => parseAssociatedResource(item, i).type)).toEqual([
      "microsoft.compute/virtualmachines", "microsoft.web/sites", "microsoft.web/sites", "microsoft.web/sites", "microsoft.compute/virtualmachinescalesets",
    ]);
  });
});

describe("real recordings of listAssociatedResources", () => {
  it("Azure CLI: {totalCount:0, value:[]} with no nextLink key", () => {
    const interaction = cliInteractions(paths.cliIdentity).find((i) => i.request.uri.includes("/listAssociatedResources"));
    const body = JSON.parse(interaction?.response.body.string ?? "null") as object;
    expect(body).not.toHaveProperty("nextLink");
    expect(parseAssociatedResourcesPage(body)).toEqual({ totalCount: 0, value: [] });
    expect(interaction?.request.uri).toContain("api-version=2022-01-31-preview");
  });

  it("PowerShell: one lower-cased microsoft.web/sites item", () => {
    const [entry] = psEntries(paths.psAssociated);
    const page = parseAssociatedResourcesPage(JSON.parse(entry?.Response.Content ?? "null"));
    expect(page.totalCount).toBe(1);
    expect(page.value).toHaveLength(1);
    expect(page.value[0]).toMatchObject({ type: "microsoft.web/sites", name: "appService1l9p6y", subscriptionDisplayName: "Visual Studio Enterprise Subscription" });
    expect(entry?.Response.Headers["x-ms-ratelimit-remaining-subscription-reads"]).toEqual(["11989"]);
  });
});

describe("identity GET and list", () => {
  const expectedExample = {
    id: "/subscriptions/subid/resourcegroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName",
    name: "identityName",
    location: "eastus",
    tags: { key1: "value1", key2: "value2" },
    clientId: "4024ab25-56a8-4370-aea6-6389221caf29",
    principalId: "25cc773c-7f05-40fc-a104-32d2300754ad",
    tenantId: "b6c948ef-f6b5-4384-8354-da3a15eca969",
  };

  it("IdentityGet.json parses", () => {
    expect(parseIdentity(example(paths.identityGet).responses["200"]?.body)).toEqual(expectedExample);
  });

  it("the REST reference's sample response parses, and systemData.createdAt is read when present", () => {
    const sample = jsonAfter(fixtureText(paths.docsGet), "Sample Response") as Record<string, unknown>;
    expect(parseIdentity(sample)).toEqual(expectedExample);
    const withSystemData = { ...sample, systemData: { createdAt: "2023-01-31T10:00:00.000Z", createdBy: "alice@contoso.com", createdByType: "User" } };
    expect(parseIdentity(withSystemData)).toMatchObject({ createdAt: "2023-01-31T10:00:00.000Z", createdBy: "alice@contoso.com" });
  });

  it.each([paths.identityListByRg, paths.identityListBySub])("%s parses, with its $skiptoken nextLink", (path) => {
    const page = parseIdentityListPage(example(path).responses["200"]?.body);
    expect(page.value).toEqual([expectedExample]);
    expect(page.nextLink).toContain("$skiptoken=X'12345'");
  });

  it("PowerShell: 19 identities listed by subscription, GET and list by RG; ids say resourcegroups", () => {
    const entries = psEntries(paths.psIdentity);
    for (const entry of entries) {
      const body = JSON.parse(entry.Response.Content) as Record<string, unknown>;
      const identities = "value" in body ? parseIdentityListPage(body).value : [parseIdentity(body)];
      for (const identity of identities) {
        expect(identity.id).toMatch(/\/resourcegroups\//);
        const ref = parseIdentityId(identity.id);
        expect(ref.name).toBe(identity.name);
      }
      if (entry.Request.RequestUri.includes("/identityn1iz32?")) {
        const [identity] = identities;
        const requested = new URL(entry.Request.RequestUri).pathname;
        expect(requested).toContain("/resourceGroups/");
        expect(sameResourceId(identity?.id ?? "", requested)).toBe(true);
      }
    }
    const bySubscription = entries.find((e) => /\/subscriptions\/[^/]+\/providers\//.test(e.Request.RequestUri));
    expect(parseIdentityListPage(JSON.parse(bySubscription?.Response.Content ?? "null")).value).toHaveLength(19);
  });

  it("Azure CLI: identity create (201) and list bodies parse", () => {
    const interactions = cliInteractions(paths.cliIdentity).filter((i) => /userAssignedIdentities(\/myidentity)?\?/.test(i.request.uri) && i.response.body.string);
    expect(interactions.length).toBeGreaterThanOrEqual(2);
    for (const i of interactions) {
      const body = JSON.parse(i.response.body.string) as Record<string, unknown>;
      const identities = "value" in body ? parseIdentityListPage(body).value : [parseIdentity(body)];
      expect(identities[0]).toMatchObject({ name: "myidentity", location: "westus", tags: {} });
    }
  });
});

describe("federated identity credentials", () => {
  it("FederatedIdentityCredentialList.json parses, and its nextLink is fetched from our endpoint", () => {
    const page = parseFederatedCredentialsPage(example(paths.ficList).responses["200"]?.body);
    expect(page.value).toEqual([
      {
        id: "/subscriptions/subid/resourcegroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identityName/federatedIdentityCredentials/ficResourceName",
        name: "ficResourceName",
        issuer: "https://oidc.prod-aks.azure.com/TenantGUID/IssuerGUID",
        subject: "system:serviceaccount:ns:svcaccount",
        audiences: ["api://AzureADTokenExchange"],
      },
    ]);
    // `https://serviceRoot` is a placeholder host: the link's path and query go to our endpoint.
    expect(page.nextLink).toContain("$skipToken=X'12345'");
    expect(nextLinkOnEndpoint("https://management.azure.com", page.nextLink ?? "", IDENTITY_API_VERSION)).toBe(
      "https://management.azure.com/subscriptions/subId/resourcegroups/rgName/providers/Microsoft.ManagedIdentity/userAssignedIdentities/resourceName/federatedIdentityCredentials?api-version=2023-01-31&$skipToken=X'12345'",
    );
  });

  it("Azure CLI: the recorded list pages (2, 1, 0 items, never a nextLink) and PUT bodies parse", () => {
    const interactions = cliInteractions(paths.cliFic).filter((i) => /federatedIdentityCredentials/.test(i.request.uri) && i.response.body.string);
    const lists = interactions.filter((i) => i.request.method === "GET" && /federatedIdentityCredentials\?/.test(i.request.uri));
    expect(lists.map((i) => parseFederatedCredentialsPage(JSON.parse(i.response.body.string)))).toEqual([
      { value: [expect.objectContaining({ name: "fic1" }), expect.objectContaining({ name: "fic2" })] },
      { value: [expect.objectContaining({ name: "fic2" })] },
      { value: [] },
    ]);
    const single = interactions.filter((i) => !/federatedIdentityCredentials\?/.test(i.request.uri));
    expect(single.length).toBeGreaterThan(0);
    for (const i of single) {
      const credential = parseFederatedCredential(JSON.parse(i.response.body.string));
      expect(credential.issuer).toMatch(/^https:\/\//);
      expect(credential.audiences.length).toBeGreaterThan(0);
    }
  });
});

describe("Resource Graph examples", () => {
  it.each(paths.argExamples.map((p) => [p.split("/").slice(-3).join("/"), p]))("%s parses", (_name, path) => {
    const ex = example(path);
    const body = ex.responses["200"]?.body as { count: number; totalRecords: number; $skipToken?: string };
    const page = parseResourceGraphResponse(body);
    expect(page.rows).toHaveLength(body.count);
    expect(page.count).toBe(body.count);
    expect(page.totalRecords).toBe(body.totalRecords);
    expect(page.skipToken).toBe(body.$skipToken);
    expect(page.resultTruncated).toBe(false);
    for (const row of page.rows) expect(typeof row.id).toBe("string");
  });

  it("accepts the SDK's deserialised shape (skipToken without $) too", () => {
    const body = example(paths.argFirstPage).responses["200"]?.body as Record<string, unknown>;
    const { $skipToken, ...rest } = body;
    expect(parseResourceGraphResponse({ ...rest, skipToken: $skipToken }).skipToken).toBe($skipToken);
  });

  it("the table example converts to the same objects an objectArray would carry", () => {
    const page = parseResourceGraphResponse(example(paths.argTable).responses["200"]?.body);
    expect(page.rows[0]).toEqual({
      id: "/subscriptions/cfbbd179-59d2-4052-aa06-9270a38aa9d6/resourceGroups/RG4/providers/Microsoft.Compute/disks/yetanothertest_OsDisk_1_f396cbcb625a457bb69fe2abf5975820",
      name: "yetanothertest_OsDisk_1_f396cbcb625a457bb69fe2abf5975820",
      type: "microsoft.compute/disks",
      location: "eastus",
    });
  });

  it("QueryResponse's required fields are the ones the parser relies on", () => {
    const swagger = fixtureJson<Swagger>(paths.argSwagger);
    expect(swagger.definitions.QueryResponse?.required).toEqual(["totalRecords", "count", "resultTruncated", "data"]);
    expect(Object.keys(swagger.definitions.QueryRequestOptions?.properties ?? {})).toEqual(
      expect.arrayContaining(["$skipToken", "$top", "$skip", "resultFormat"]),
    );
  });

  it("ARG's ErrorResponse and the real 429 body parse as errors", () => {
    expect(
      parseErrorBody({
        error: {
          code: "RateLimiting",
          message: "Please provide below info when asking for support: timestamp = 2021-04-26T10:48:10.5155431Z, correlationId = x.",
          details: [{ code: "RateLimiting", message: "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help." }],
        },
      }),
    ).toMatchObject({ code: "RateLimiting", details: [{ code: "RateLimiting" }] });
  });
});

describe("skiptoken extraction (pure)", () => {
  it.each([
    ["https://h/x?skiptoken=a%253d&api-version=2021-09-30", "a%3d"],
    ["https://h/x?api-version=1&$skiptoken=a%253d", "a%3d"],
    ["https://h/x?%24skipToken=a%2Bb", "a+b"],
    ["https://h/x?$skipToken=a+b", "a+b"],
    ["https://h/x?$skipToken=X'12345'", "X'12345'"],
    ["https://h/x?api-version=1", undefined],
    ["https://h/x?skiptoken=", undefined],
    ["https://h/x", undefined],
  ])("%s -> %s", (link, token) => {
    expect(skipTokenFromNextLink(link)).toBe(token);
  });
});
