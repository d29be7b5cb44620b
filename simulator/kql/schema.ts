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
 * ARG's common resource schema (`resources | getschema`); `authorizationresources` has the same columns.
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
};
