/**
 * One row of a Resource Graph table. Every table the simulator serves has ARG's common columns (id, name,
 * type, tenantId, kind, location, resourceGroup, subscriptionId, managedBy, sku, plan, properties, tags,
 * identity, zones, extendedLocation); a row names the columns it fills and the rest hold ARG's empty values.
 */

/** A row: column name -> value. */
export type TableRow = Record<string, unknown>;

/** The columns a row fills; ARG lower-cases `type` and `resourceGroup`, so callers pass them that way. */
export interface RowColumns {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly tenantId: string;
  readonly kind?: string;
  readonly location?: string;
  readonly resourceGroup?: string;
  readonly subscriptionId?: string;
  readonly sku?: unknown;
  readonly properties?: unknown;
  readonly tags?: unknown;
  readonly identity?: unknown;
}

/** A row with every common column, in ARG's order: strings default to "", objects to null. */
export function resourceGraphRow(columns: RowColumns): TableRow {
  return {
    id: columns.id,
    name: columns.name,
    type: columns.type,
    tenantId: columns.tenantId,
    kind: columns.kind ?? "",
    location: columns.location ?? "",
    resourceGroup: columns.resourceGroup ?? "",
    subscriptionId: columns.subscriptionId ?? "",
    managedBy: "",
    sku: columns.sku ?? null,
    plan: null,
    properties: columns.properties ?? null,
    tags: columns.tags ?? null,
    identity: columns.identity ?? null,
    zones: null,
    extendedLocation: null,
  };
}
