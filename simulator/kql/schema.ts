/**
 * The static types of the KQL subset and the schemas of the Azure Resource Graph tables the simulator
 * serves. Column references are resolved against these at compile time, as Kusto does: a misspelt column
 * is a 400, never a silent column of nulls.
 */

/** Kusto scalar types the subset can produce (`int` and `long` are both `long` here). */
export type ScalarType = "string" | "long" | "real" | "bool" | "datetime" | "dynamic";

export interface SchemaColumn {
  readonly name: string;
  readonly type: ScalarType;
}

/**
 * ARG's common resource schema (`resources | getschema`); `authorizationresources`, `resourcecontainers`
 * and `policyresources` have the same columns.
 * Kusto strings are never null: a missing string column reads as "".
 */
const RESOURCE_COLUMNS: readonly SchemaColumn[] = [
  { name: "id", type: "string" },
  { name: "name", type: "string" },
  { name: "type", type: "string" },
  { name: "tenantId", type: "string" },
  { name: "kind", type: "string" },
  { name: "location", type: "string" },
  { name: "resourceGroup", type: "string" },
  { name: "subscriptionId", type: "string" },
  { name: "managedBy", type: "string" },
  { name: "sku", type: "dynamic" },
  { name: "plan", type: "dynamic" },
  { name: "properties", type: "dynamic" },
  { name: "tags", type: "dynamic" },
  { name: "identity", type: "dynamic" },
  { name: "zones", type: "dynamic" },
  { name: "extendedLocation", type: "dynamic" },
];

/** Tables the simulator serves, by lower-case name (ARG accepts table names in any case). */
export const ARG_TABLE_SCHEMAS: Readonly<Record<string, readonly SchemaColumn[]>> = {
  resources: RESOURCE_COLUMNS,
  authorizationresources: RESOURCE_COLUMNS,
  resourcecontainers: RESOURCE_COLUMNS,
  policyresources: RESOURCE_COLUMNS,
};

/**
 * `AADManagedIdentitySignInLogs` of a Log Analytics workspace, with the types of Azure Monitor's table
 * reference (https://learn.microsoft.com/azure/azure-monitor/reference/tables/aadmanagedidentitysigninlogs;
 * source MicrosoftDocs/azure-reference-other, azure-monitor-ref/tables/includes/aadmanagedidentitysigninlogs-include.md).
 * Every id column (ServicePrincipalId, AppId, ResourceIdentity, ...) is a `string`, not a `guid`.
 */
const MANAGED_IDENTITY_SIGN_IN_COLUMNS: readonly SchemaColumn[] = [
  { name: "AppId", type: "string" },
  { name: "AuthenticationContextClassReferences", type: "string" },
  { name: "AuthenticationProcessingDetails", type: "string" },
  { name: "_BilledSize", type: "real" },
  { name: "Category", type: "string" },
  { name: "ConditionalAccessPolicies", type: "string" },
  { name: "ConditionalAccessStatus", type: "string" },
  { name: "CorrelationId", type: "string" },
  { name: "DurationMs", type: "long" },
  { name: "FederatedCredentialId", type: "string" },
  { name: "Id", type: "string" },
  { name: "Identity", type: "string" },
  { name: "IPAddress", type: "string" },
  { name: "_IsBillable", type: "string" },
  { name: "Level", type: "string" },
  { name: "Location", type: "string" },
  { name: "LocationDetails", type: "string" },
  { name: "OperationName", type: "string" },
  { name: "OperationVersion", type: "string" },
  { name: "ResourceDisplayName", type: "string" },
  { name: "ResourceGroup", type: "string" },
  { name: "ResourceIdentity", type: "string" },
  { name: "ResourceServicePrincipalId", type: "string" },
  { name: "ResultDescription", type: "string" },
  { name: "ResultSignature", type: "string" },
  { name: "ResultType", type: "string" },
  { name: "ServicePrincipalCredentialKeyId", type: "string" },
  { name: "ServicePrincipalCredentialThumbprint", type: "string" },
  { name: "ServicePrincipalId", type: "string" },
  { name: "ServicePrincipalName", type: "string" },
  { name: "SourceSystem", type: "string" },
  { name: "TenantId", type: "string" },
  { name: "TimeGenerated", type: "datetime" },
  { name: "Type", type: "string" },
  { name: "UniqueTokenIdentifier", type: "string" },
];

/**
 * Tables of the simulated Log Analytics workspaces, by their exact name: unlike Resource Graph, Log
 * Analytics resolves table names case-sensitively (`aadmanagedidentitysigninlogs` is an unknown table).
 */
export const LOG_ANALYTICS_TABLE_SCHEMAS: Readonly<Record<string, readonly SchemaColumn[]>> = {
  AADManagedIdentitySignInLogs: MANAGED_IDENTITY_SIGN_IN_COLUMNS,
};
