/**
 * Every KQL query the app sends to Resource Graph, checked with Microsoft's own Kusto parser
 * (`@kusto/language-service-next`, a Bridge.NET build of Kusto.Language that installs a global `Kusto`).
 *
 * Two levels: syntax (KustoCode.Parse) and, against the Resource Graph table schema, semantics
 * (KustoCode.ParseAndAnalyze: unknown tables, columns and functions are errors).
 */
import { describe, expect, it } from "vitest";
import { kustoDatabase, syntaxErrors } from "../helpers/kusto.js";
import {
  allQueries,
  identityBagReferencesQuery,
  identityInventoryQuery,
  namedQueries,
  policyAssignmentReferencesQuery,
  propertyReferencesQuery,
  roleAssignmentsQuery,
  roleDefinitionsQuery,
  subscriptionNamesQuery,
} from "../../src/arm/queries.js";

/**
 * Resource Graph's `resources`, `authorizationresources`, `resourcecontainers` and `policyresources` columns
 * (learn.microsoft.com, Resource Graph "Understanding the query language": id, name, type, tenantId, kind,
 * location, resourceGroup, subscriptionId, managedBy, sku, plan, properties, tags, identity, zones,
 * extendedLocation). `policyresources` is listed among the tables of that page ("Includes resources related to
 * Microsoft.PolicyInsights") and its policy assignment rows carry `identity` (Microsoft's own query
 * `policyresources | where type == "microsoft.authorization/policyassignments" | where isnotnull(identity) |
 * extend bag_key = tostring(bag_keys(identity.userAssignedIdentities)[0])`, Azure/terraform-state-importer
 * .config/alz.management-groups.config.yaml). `kind` is a keyword, hence quoted.
 */
const ARG_COLUMNS =
  "(id:string, name:string, type:string, tenantId:string, ['kind']:string, location:string, resourceGroup:string, " +
  "subscriptionId:string, managedBy:string, sku:dynamic, plan:dynamic, properties:dynamic, tags:dynamic, " +
  "identity:dynamic, zones:dynamic, extendedLocation:dynamic)";

const { semanticErrors } = kustoDatabase("resourcegraph", {
  resources: ARG_COLUMNS,
  authorizationresources: ARG_COLUMNS,
  resourcecontainers: ARG_COLUMNS,
  policyresources: ARG_COLUMNS,
});

/** The last operator is `order by` (or `sort by`) and its first key is `id asc`. */
function ordersByIdFirst(text: string): boolean {
  const last = text.trimEnd().split("\n").pop() ?? "";
  return /^\|\s*(order|sort) by id asc(,\s*\w+ (asc|desc))*$/.test(last.trim());
}

describe("the queries sent to Resource Graph", () => {
  it("lists the seven queries", () => {
    expect(namedQueries().map((q) => q.name)).toEqual([
      "identityInventory",
      "roleAssignments",
      "roleDefinitions",
      "subscriptionNames",
      "identityBagReferences",
      "propertyReferences",
      "policyAssignmentReferences",
    ]);
    expect(allQueries()).toEqual(namedQueries().map((q) => q.text));
  });

  it.each(namedQueries().map((q) => [q.name, q.text]))("%s parses without syntax errors", (_name, text) => {
    expect(syntaxErrors(text)).toEqual([]);
  });

  it.each(namedQueries().map((q) => [q.name, q.text]))("%s names only Resource Graph tables and columns", (_name, text) => {
    expect(semanticErrors(text)).toEqual([]);
  });

  it.each(namedQueries().map((q) => [q.name, q.text]))("%s orders by id first for stable paging and has no limit", (_name, text) => {
    expect(ordersByIdFirst(text)).toBe(true);
    expect(text).not.toMatch(/\|\s*(limit|take|sample)\b/);
  });

  it.each(namedQueries().map((q) => [q.name, q.text]))("%s caps every mv-expand at Resource Graph's documented maximum", (_name, text) => {
    // ARG: "RowLimit max of 400. The default is 128" (query-language.md): without `limit 400` rows past 128 vanish.
    const expands = text.split("\n").filter((line) => /\bmv-expand\b/.test(line));
    for (const line of expands) expect(line).toMatch(/ limit 400$/);
  });

  it("are the agreed texts", () => {
    expect(identityInventoryQuery()).toBe(
      "resources\n| where type =~ 'microsoft.managedidentity/userassignedidentities'\n| project id, name, subscriptionId, resourceGroup, location, tenantId, principalId = tostring(properties.principalId), clientId = tostring(properties.clientId), tags\n| order by id asc",
    );
    expect(roleAssignmentsQuery()).toBe(
      "authorizationresources\n| where type =~ 'microsoft.authorization/roleassignments'\n| project id, principalId = tostring(properties.principalId), roleDefinitionId = tolower(tostring(properties.roleDefinitionId)), scope = tostring(properties.scope)\n| order by id asc",
    );
    expect(roleDefinitionsQuery()).toBe(
      "authorizationresources\n| where type =~ 'microsoft.authorization/roledefinitions'\n| project id = tolower(id), roleName = tostring(properties.roleName), permissions = properties.permissions\n| order by id asc",
    );
    expect(subscriptionNamesQuery()).toBe("resourcecontainers\n| where type =~ 'microsoft.resources/subscriptions'\n| project id, subscriptionId, name\n| order by id asc");
    const perIdentity = "| distinct id, identityId\n| summarize referenceCount = count(), resourceIds = make_set(id, 10) by identityId\n| project id = identityId, referenceCount, resourceIds\n| order by id asc";
    expect(identityBagReferencesQuery()).toBe(
      `resources\n| where isnotnull(identity.userAssignedIdentities)\n| mv-expand identityKey = bag_keys(identity.userAssignedIdentities) to typeof(string) limit 400\n| project id, identityId = tolower(identityKey)\n${perIdentity}`,
    );
    expect(policyAssignmentReferencesQuery()).toBe(
      `policyresources\n| where type =~ 'microsoft.authorization/policyassignments'\n| where isnotnull(identity.userAssignedIdentities)\n| mv-expand identityKey = bag_keys(identity.userAssignedIdentities) to typeof(string) limit 400\n| project id, identityId = tolower(identityKey)\n${perIdentity}`,
    );
    expect(propertyReferencesQuery().split("\n").slice(5)).toEqual([
      "| where isnotempty(identityId)",
      "| project id, identityId, isKubelet = identityId == tolower(tostring(properties.identityProfile.kubeletidentity.resourceId))",
      "| distinct id, identityId, isKubelet",
      "| summarize referenceCount = count(), resourceIds = make_set(id, 10) by identityId, isKubelet",
      "| project id = identityId, isKubelet, referenceCount, resourceIds",
      "| order by id asc, isKubelet asc",
    ]);
    expect(propertyReferencesQuery().split("\n")[4]).toBe(
      "| mv-expand identityId = extract_all(@'(/subscriptions/[^/\"]+/resourcegroups/[^/\"]+/providers/microsoft\\.managedidentity/userassignedidentities/[^/\"\\\\?#]+)', propertiesText) to typeof(string) limit 400",
    );
  });
});

describe("the property query's regular expression", () => {
  /** The verbatim string of extract_all, as a JavaScript RegExp (same syntax for this pattern). */
  function extractAllRegex(): RegExp {
    const match = /extract_all\(@'([^']+)'/.exec(propertyReferencesQuery());
    if (!match?.[1]) throw new Error("no extract_all(@'...') in the property query");
    return new RegExp(match[1], "g");
  }

  it("finds every identity id in serialised, lower-cased properties and stops at the closing quote", () => {
    const sub = "0b1f6471-1bf0-4dda-aec3-111122223333";
    const kubelet = `/subscriptions/${sub}/resourcegroups/mc_rg/providers/microsoft.managedidentity/userassignedidentities/aks-agentpool`;
    const cmk = `/subscriptions/${sub}/resourcegroups/rg-keys/providers/microsoft.managedidentity/userassignedidentities/id-cmk.1`;
    const text = JSON.stringify({
      identityprofile: { kubeletidentity: { resourceid: kubelet, clientid: "c" } },
      encryption: { identity: { userassignedidentity: cmk } },
      other: `${kubelet}?api-version=1`,
    });
    expect(text.match(extractAllRegex())).toEqual([kubelet, cmk, kubelet]);
  });

  it("ignores identity type names and federated credential children", () => {
    const text = JSON.stringify({
      type: "microsoft.managedidentity/userassignedidentities",
      fic: "/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/id/federatedidentitycredentials/f",
    });
    expect(text.match(extractAllRegex())).toEqual(["/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/id"]);
  });
});

describe("the ordering check", () => {
  it.each([
    ["order by id asc", true],
    ["order by id asc, identityId asc", true],
    ["sort by id asc, identityId desc", true],
    ["order by identityId asc, id asc", false],
    ["order by name asc", false],
    ["order by id desc", false],
  ])("accepts only an order whose first key is id asc: %s", (order, expected) => {
    expect(ordersByIdFirst(`resources\n| project id, name\n| ${order}`)).toBe(expected);
  });

  it("wants the order last", () => {
    expect(ordersByIdFirst("resources\n| order by id asc\n| project id")).toBe(false);
  });
});

describe("the parser check can fail", () => {
  it.each([
    ["a missing predicate", "resources\n| where\n| project id"],
    ["an unknown operator", "resources | projekt id, name"],
    ["an unclosed call", "resources | project principalId = tostring(properties.principalId"],
    ["an unterminated string", "resources | where type =~ 'microsoft.managedidentity/userassignedidentities"],
  ])("reports %s as a syntax error", (_what, text) => {
    expect(syntaxErrors(text).length).toBeGreaterThan(0);
  });

  it.each([
    ["an unknown column", "resources | project id, nmae | order by id asc"],
    ["an unknown table", "resourcez | project id"],
    ["an unknown function", "resources | project id = tolowr(id)"],
  ])("reports %s as a semantic error", (_what, text) => {
    expect(syntaxErrors(text)).toEqual([]);
    expect(semanticErrors(text).length).toBeGreaterThan(0);
  });
});
