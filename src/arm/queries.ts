/**
 * Every KQL text this app sends to Azure Resource Graph, as pure builders, so a test can check each one
 * with Microsoft's Kusto parser (test/arm/queries.test.ts).
 *
 * Each query ends with `order by id asc`: ARG pages by `$skipToken` and its paging examples state that the
 * `id` column is required for stable pages (reference: resourcegraph/.../2024-04-01/examples/
 * ResourcesFirstPageQuery.json). None uses `limit`/`take`, which would disable the skipToken
 * (learn.microsoft.com .../resource-graph/concepts/work-with-data).
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
  ];
}

/** Every query text the app sends (test/arm/queries.test.ts parses each with Microsoft's Kusto parser). */
export function allQueries(): string[] {
  return namedQueries().map((q) => q.text);
}
