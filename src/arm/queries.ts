/**
 * Every KQL text this app sends to Azure Resource Graph, as pure builders, so a test can check each one
 * with Microsoft's Kusto parser (test/arm/queries.test.ts).
 *
 * Each query ends with an `order by` whose first key is `id asc` (the reference-sweep queries tie-break on
 * `identityId`): ARG pages by `$skipToken` and its paging examples state that the `id` column is required for
 * stable pages (reference: resourcegraph/.../2024-04-01/examples/ResourcesFirstPageQuery.json). None uses the
 * `limit`/`take` operators, which would disable the skipToken (learn.microsoft.com .../resource-graph/
 * concepts/work-with-data); `mv-expand ... limit 400` is mv-expand's row limit, not that operator.
 */

/** All user-assigned identities in scope, one row per identity (the audit's inventory). */
export function identityInventoryQuery(): string {
  return [
    "resources",
    "| where type =~ 'microsoft.managedidentity/userassignedidentities'",
    "| project id, name, subscriptionId, resourceGroup, location, tenantId, principalId = tostring(properties.principalId), clientId = tostring(properties.clientId), tags",
    "| order by id asc",
  ].join("\n");
}

/** All role assignments in scope. `roleDefinitionId` is lower-cased to join with `roleDefinitionsQuery`. */
export function roleAssignmentsQuery(): string {
  return [
    "authorizationresources",
    "| where type =~ 'microsoft.authorization/roleassignments'",
    "| project id, principalId = tostring(properties.principalId), roleDefinitionId = tolower(tostring(properties.roleDefinitionId)), scope = tostring(properties.scope)",
    "| order by id asc",
  ].join("\n");
}

/** All role definitions visible in scope (built-in and custom), with their permissions. */
export function roleDefinitionsQuery(): string {
  return [
    "authorizationresources",
    "| where type =~ 'microsoft.authorization/roledefinitions'",
    "| project id = tolower(id), roleName = tostring(properties.roleName), permissions = properties.permissions",
    "| order by id asc",
  ].join("\n");
}

/** The subscriptions in scope with their display names (reports name subscriptions, not just ids). */
export function subscriptionNamesQuery(): string {
  return [
    "resourcecontainers",
    "| where type =~ 'microsoft.resources/subscriptions'",
    "| project id, subscriptionId, name",
    "| order by id asc",
  ].join("\n");
}

/**
 * The reference sweep (see `referenceSweep.ts`): every identity that a resource names, summarised in the query
 * to one row per identity (per kind, for the property query), so the sweep costs about one Resource Graph page
 * per 1,000 referenced identities instead of one per 1,000 (resource, identity) pairs: at 10,000 identities
 * that is ~30 pages instead of ~150, and pages are what Resource Graph's quota (15 queries per 5 s) counts.
 * Three queries, because Resource Graph keeps the evidence in three places:
 *
 * - `identity.userAssignedIdentities`: the bag whose keys are the identities a resource runs as. Keys keep
 *   whatever casing the resource's author wrote, hence `tolower`.
 * - `properties`: customer-managed keys (`encryption.identity`), Key Vault reference identities, registry
 *   pulls, the AKS kubelet identity (`identityProfile.kubeletidentity.resourceId`) and many more keep an
 *   identity's id somewhere in `properties`. Listing paths one by one would miss the next service, so the
 *   whole bag is serialised (`tostring`), lower-cased and every identity id is extracted (`extract_all`).
 *   Whether the id is the cluster's kubelet identity is kept (`isKubelet`) so the client can name that
 *   reference `kubelet`.
 * - `policyresources`: policy assignments (deployIfNotExists / modify) run as an identity; they live in
 *   their own table and are assigned at management groups above a subscription as well as at resource
 *   groups below it, so the sweep sends this one with `authorizationScopeFilter: AtScopeAboveAndBelow`
 *   (POLICY_ASSIGNMENT_SCOPE_FILTER in referenceSweep.ts).
 *
 * Each row: `id` (the identity's id, lower case), `referenceCount` (distinct resources naming it: `distinct`
 * first, so an id written twice in one resource counts once) and `resourceIds` (up to
 * REFERENCE_SAMPLE_SIZE of them, `make_set`; their types are read from the ids by the client). Paging stays
 * possible: `id` is a string column (ARG cannot page when every output column is dynamic) and unique per row
 * (with `isKubelet` for the property query), and no `limit`/`take` is used (paging-results concept page).
 *
 * Operators: `where`, `extend`, `mv-expand`, `project`, `distinct`, `summarize`, `order by`, all in Resource
 * Graph's list of supported tabular operators (learn.microsoft.com/azure/governance/resource-graph/concepts/
 * query-language, "Supported tabular/top level operators", ms.date 03/20/2024). That list says of `mv-expand`:
 * "RowLimit max of 400. The default is 128. Limit of 2 mv-expand in a single query". Without an explicit
 * limit a resource naming more than 128 identities (or an identity id repeated more than 128 times in its
 * properties: each `extract_all` match is a row) would silently lose rows, so every `mv-expand` asks for the
 * documented maximum, `limit 400`. `summarize make_set(id)` is Microsoft's own Resource Graph example (the
 * paging-results concept page, "Retrieve all resource IDs"). Scalar functions (`isnotnull`, `isnotempty`,
 * `bag_keys`, `tolower`, `tostring`, `extract_all`): the page only says Resource Graph supports "a subset of
 * KQL scalar functions" without listing them; `bag_keys(identity.userAssignedIdentities)` and `tostring` over
 * `policyresources` rows are used in Microsoft's own Resource Graph queries (Azure/terraform-state-importer,
 * .config/alz.management-groups.config.yaml).
 */
export const REFERENCE_SAMPLE_SIZE = 10;

/** Rows of (resource `id`, `identityId`) pairs, de-duplicated, summarised to one row per identity. */
function summarisedPerIdentity(extraKeys: string[] = []): string[] {
  const keys = ["identityId", ...extraKeys].join(", ");
  return [
    `| distinct id, ${keys}`,
    `| summarize referenceCount = count(), resourceIds = make_set(id, ${REFERENCE_SAMPLE_SIZE}) by ${keys}`,
    `| project id = ${keys}, referenceCount, resourceIds`,
    `| order by ${["id", ...extraKeys].map((k) => `${k} asc`).join(", ")}`,
  ];
}

export function identityBagReferencesQuery(): string {
  return [
    "resources",
    "| where isnotnull(identity.userAssignedIdentities)",
    "| mv-expand identityKey = bag_keys(identity.userAssignedIdentities) to typeof(string) limit 400",
    "| project id, identityId = tolower(identityKey)",
    ...summarisedPerIdentity(),
  ].join("\n");
}

/** Identity ids named anywhere in a resource's `properties` (see identityBagReferencesQuery). */
export function propertyReferencesQuery(): string {
  return [
    "resources",
    "| where type !startswith 'microsoft.managedidentity/'",
    "| extend propertiesText = tolower(tostring(properties))",
    "| where propertiesText contains 'microsoft.managedidentity/userassignedidentities/'",
    `| mv-expand identityId = extract_all(@'(/subscriptions/[^/"]+/resourcegroups/[^/"]+/providers/microsoft\\.managedidentity/userassignedidentities/[^/"\\\\?#]+)', propertiesText) to typeof(string) limit 400`,
    "| where isnotempty(identityId)",
    "| project id, identityId, isKubelet = identityId == tolower(tostring(properties.identityProfile.kubeletidentity.resourceId))",
    ...summarisedPerIdentity(["isKubelet"]),
  ].join("\n");
}

/** Policy assignments that run as a user-assigned identity (sent with `authorizationScopeFilter: AtScopeAboveAndBelow`). */
export function policyAssignmentReferencesQuery(): string {
  return [
    "policyresources",
    "| where type =~ 'microsoft.authorization/policyassignments'",
    "| where isnotnull(identity.userAssignedIdentities)",
    "| mv-expand identityKey = bag_keys(identity.userAssignedIdentities) to typeof(string) limit 400",
    "| project id, identityId = tolower(identityKey)",
    ...summarisedPerIdentity(),
  ].join("\n");
}

export interface NamedQuery {
  name: string;
  text: string;
}

/** Every query the app sends, with a name for test reports. Add new queries here. */
export function namedQueries(): NamedQuery[] {
  return [
    { name: "identityInventory", text: identityInventoryQuery() },
    { name: "roleAssignments", text: roleAssignmentsQuery() },
    { name: "roleDefinitions", text: roleDefinitionsQuery() },
    { name: "subscriptionNames", text: subscriptionNamesQuery() },
    { name: "identityBagReferences", text: identityBagReferencesQuery() },
    { name: "propertyReferences", text: propertyReferencesQuery() },
    { name: "policyAssignmentReferences", text: policyAssignmentReferencesQuery() },
  ];
}

/** Every query text the app sends (test/arm/queries.test.ts parses each with Microsoft's Kusto parser). */
export function allQueries(): string[] {
  return namedQueries().map((q) => q.text);
}
