/**
 * The rows Resource Graph would hold for a simulated tenant, generated on demand (never stored: a
 * tenant of 100,000 identities has about a million `resources` rows).
 *
 * - `resources`: identities (type `microsoft.managedidentity/userassignedidentities`; ARG lower-cases
 *   types and the `resourceGroup` column) and the resources that use them, whose `identity` column
 *   names the identity in `userAssignedIdentities`, plus the resources of hidden usage (hiddenUsage.ts);
 * - `policyresources`: policy assignments running as an identity: those at subscription scope that
 *   listAssociatedResources lists, and the hidden ones at management-group scope (visible to a
 *   subscription-scoped query only with `authorizationScopeFilter` AtScopeAndAbove or wider);
 * - `authorizationresources`: role assignments (`microsoft.authorization/roleassignments`, with
 *   properties.principalId/roleDefinitionId/scope/principalType) and role definitions
 *   (`microsoft.authorization/roledefinitions`, properties.roleName/type/permissions[{actions,notActions}]);
 * - `resourcecontainers`: subscriptions and resource groups (display names of subscriptions live here).
 *
 * Columns follow ARG's common schema: id, name, type, tenantId, kind, location, resourceGroup,
 * subscriptionId, managedBy, sku, plan, properties, tags, identity, zones, extendedLocation.
 */
import { associationRecordsOf, type AssociationRecord } from "./associatedResources.js";
import { hiddenPolicyRows, hiddenResourceRows, policyAssignmentRow } from "./hiddenUsage.js";
import type { IdentityRecord, RoleAssignmentTruth, RoleDefinitionTruth, TenantModel } from "./model.js";
import { mix32 } from "./prng.js";
import { resourceGraphRow, type TableRow } from "./resourceGraphRow.js";
import { COMMON_BUILT_IN_ROLE_NAMES } from "./roles.js";

/** Which rows a query may see, resolved from the request's subscriptions / management groups. */
export interface RowScope {
  /** Lower-cased subscription ids in scope. */
  readonly subscriptions: ReadonlySet<string>;
  /** Decides whether an `authorizationresources` row at `ancestry[0]` is visible (see resourceGraph.ts). */
  readonly authorizationVisible: (ancestry: readonly string[]) => boolean;
  /** The request named no subscription or management group: a tenant-scope query (built-in role definitions). */
  readonly tenantWide?: boolean;
}

export function identityRow(tenant: TenantModel, identity: IdentityRecord): TableRow {
  return resourceGraphRow({
    id: identity.id,
    name: identity.name,
    type: "microsoft.managedidentity/userassignedidentities",
    tenantId: tenant.tenantId,
    location: identity.location,
    resourceGroup: identity.resourceGroup,
    subscriptionId: identity.subscriptionId,
    properties: { tenantId: tenant.tenantId, principalId: identity.principalId, clientId: identity.clientId },
    tags: identity.argTagsNull ? null : { ...identity.tags },
  });
}

/**
 * The `identity` column of every resource using one identity, built once per query run and shared by those
 * rows (the engine never modifies input values): the reference sweep reads it on a million rows, and a bag
 * keyed by a long id is costly to build each time.
 */
class OwnerIdentityBag {
  private value: Record<string, unknown> | undefined;

  constructor(readonly owner: IdentityRecord) {}

  get(): Record<string, unknown> {
    this.value ??= {
      type: "UserAssigned",
      userAssignedIdentities: { [this.owner.id]: { principalId: this.owner.principalId, clientId: this.owner.clientId } },
    };
    return this.value;
  }
}

const GENERIC_PROPERTIES: Readonly<Record<string, unknown>> = Object.freeze({ provisioningState: "Succeeded" });
const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A `resources` row of a resource using an identity. Its nested objects are built only when read
 * (prototype getters): a tenant of 100,000 identities has over a million such rows per query run, and
 * most queries never look at them. `toJSON` gives the full row should one be serialised as is.
 */
class AssociationRow {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly tenantId: string;
  readonly kind: string;
  readonly location: string;
  readonly resourceGroup: string;
  readonly subscriptionId: string;
  readonly managedBy = "";
  readonly sku = null;
  readonly plan = null;
  readonly zones = null;
  readonly extendedLocation = null;
  private readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(
    tenant: TenantModel,
    private readonly bag: OwnerIdentityBag,
    record: AssociationRecord,
  ) {
    this.detail = record.properties;
    const { resource } = record;
    this.id = resource.id;
    this.name = resource.name;
    this.type = resource.type;
    this.tenantId = tenant.tenantId;
    this.kind = record.kind;
    this.location = record.location;
    this.resourceGroup = resource.resourceGroup;
    this.subscriptionId = resource.subscriptionId;
  }

  get properties(): Readonly<Record<string, unknown>> {
    return this.detail ?? GENERIC_PROPERTIES;
  }

  get tags(): Readonly<Record<string, string>> {
    return NO_TAGS;
  }

  get identity(): Record<string, unknown> {
    return this.bag.get();
  }

  toJSON(): TableRow {
    return {
      id: this.id,
      name: this.name,
      type: this.type,
      tenantId: this.tenantId,
      kind: this.kind,
      location: this.location,
      resourceGroup: this.resourceGroup,
      subscriptionId: this.subscriptionId,
      managedBy: this.managedBy,
      sku: this.sku,
      plan: this.plan,
      properties: this.properties,
      tags: this.tags,
      identity: this.identity,
      zones: this.zones,
      extendedLocation: this.extendedLocation,
    };
  }
}

export function associationRow(tenant: TenantModel, identity: IdentityRecord | OwnerIdentityBag, record: AssociationRecord): TableRow {
  return new AssociationRow(tenant, identity instanceof OwnerIdentityBag ? identity : new OwnerIdentityBag(identity), record) as unknown as TableRow;
}

/**
 * `resources`: live identities, every resource using an identity and the resources of hidden usage (those
 * of deleted identities stay, dangling, as in Azure).
 */
export function* resourcesRows(tenant: TenantModel, scope: RowScope): Generator<TableRow> {
  for (const identity of tenant.allIdentities) {
    const inScope = scope.subscriptions.has(identity.subscriptionId.toLowerCase());
    if (!identity.deleted && inScope) yield identityRow(tenant, identity);
    if (identity.hiddenUsage.length > 0 && inScope) yield* hiddenResourceRows(tenant, identity);
    if (identity.associationCount === 0) continue;
    const bag = new OwnerIdentityBag(identity);
    for (const record of associationRecordsOf(tenant, identity)) {
      if (record.table === "resources" && scope.subscriptions.has(record.resource.subscriptionId.toLowerCase())) yield associationRow(tenant, bag, record);
    }
  }
}

function nameHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = mix32(h, text.charCodeAt(i));
  return h;
}

/**
 * `policyresources`: policy assignments that run as an identity. Visibility follows the assignment's scope
 * like `authorizationresources` (`authorizationScopeFilter`): subscription-level ones appear under their
 * subscription, management-group ones only at or below the group's scope, or above a subscription with
 * AtScopeAndAbove / AtScopeAboveAndBelow.
 */
export function* policyResourcesRows(tenant: TenantModel, scope: RowScope): Generator<TableRow> {
  const subscriptionAncestry = new Map<string, string[]>();
  const ancestryOfSubscription = (subscriptionId: string): string[] => {
    const key = subscriptionId.toLowerCase();
    let chain = subscriptionAncestry.get(key);
    if (!chain) {
      chain = ancestryOf(tenant, { scopeKind: "subscription", subscriptionId: key, resourceGroup: "", managementGroup: "" });
      subscriptionAncestry.set(key, chain);
    }
    return chain;
  };
  for (const identity of tenant.allIdentities) {
    for (const { row, managementGroup } of hiddenPolicyRows(tenant, identity)) {
      if (scope.authorizationVisible(ancestryOf(tenant, { scopeKind: "managementGroup", subscriptionId: "", resourceGroup: "", managementGroup }))) yield row;
    }
    if (identity.associationCount === 0) continue;
    for (const record of associationRecordsOf(tenant, identity)) {
      if (record.table !== "policyresources") continue;
      const { resource } = record;
      if (!scope.authorizationVisible(ancestryOfSubscription(resource.subscriptionId))) continue;
      yield policyAssignmentRow(
        tenant,
        identity,
        { id: resource.id, name: resource.name, location: record.location, subscriptionId: resource.subscriptionId, scope: `/subscriptions/${resource.subscriptionId}` },
        nameHash(resource.name),
      );
    }
  }
}

/** Scope keys from the assignment's own scope up to the tenant root group, lower-cased. */
export function ancestryOf(tenant: TenantModel, assignment: Pick<RoleAssignmentTruth, "scopeKind" | "subscriptionId" | "resourceGroup" | "managementGroup">): string[] {
  // The root scope "/" sits above the tenant root group; resolveScope counts it above every requested scope.
  if (assignment.scopeKind === "root") return ["/"];
  const chain: string[] = [];
  const groupChain = (name: string) => {
    let current = tenant.managementGroups.find((g) => g.name.toLowerCase() === name.toLowerCase());
    while (current) {
      chain.push(`mg:${current.name.toLowerCase()}`);
      const parent = current.parent;
      current = parent ? tenant.managementGroups.find((g) => g.name === parent) : undefined;
    }
  };
  if (assignment.scopeKind === "managementGroup") {
    groupChain(assignment.managementGroup);
    return chain;
  }
  const subscriptionKey = assignment.subscriptionId.toLowerCase();
  if (assignment.scopeKind === "resourceGroup") chain.push(`rg:${subscriptionKey}/${assignment.resourceGroup.toLowerCase()}`);
  chain.push(`sub:${subscriptionKey}`);
  const subscription = tenant.subscriptionByKey.get(subscriptionKey);
  if (subscription) groupChain(subscription.managementGroup);
  return chain;
}

export function roleAssignmentRow(tenant: TenantModel, assignment: RoleAssignmentTruth): TableRow {
  return resourceGraphRow({
    id: assignment.id,
    name: assignment.name,
    type: "microsoft.authorization/roleassignments",
    tenantId: tenant.tenantId,
    resourceGroup: assignment.resourceGroup.toLowerCase(),
    subscriptionId: assignment.subscriptionId,
    properties: {
      roleDefinitionId: assignment.roleDefinitionId,
      principalId: assignment.principalId,
      principalType: assignment.principalType,
      scope: assignment.scope,
      condition: null,
      conditionVersion: null,
      createdOn: assignment.createdOn,
      updatedOn: assignment.createdOn,
      createdBy: null,
      updatedBy: null,
      delegatedManagedIdentityResourceId: null,
      description: null,
    },
  });
}

export function roleDefinitionRow(tenant: TenantModel, definition: RoleDefinitionTruth): TableRow {
  const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(definition.id)?.[1] ?? "";
  return resourceGraphRow({
    id: definition.id,
    name: definition.name,
    type: "microsoft.authorization/roledefinitions",
    tenantId: tenant.tenantId,
    subscriptionId,
    properties: {
      roleName: definition.roleName,
      type: definition.type,
      description: definition.type === "CustomRole" ? "Break-glass role kept for emergencies." : `${definition.roleName} (built-in role).`,
      assignableScopes: definition.type === "CustomRole" ? [`/providers/Microsoft.Management/managementGroups/${tenant.tenantId}`] : ["/"],
      permissions: [{ actions: [...definition.actions], notActions: [...definition.notActions], dataActions: [], notDataActions: [] }],
      createdOn: "2015-02-02T21:55:09.8806423Z",
      updatedOn: "2024-04-16T20:46:24.4567721Z",
    },
  });
}

export function* authorizationRows(tenant: TenantModel, scope: RowScope): Generator<TableRow> {
  for (const definition of tenant.roleDefinitions) {
    // Built-in definitions live at tenant scope: a tenant-scope query lists them all, a query scoped to
    // subscriptions or management groups only the common ones (the rest would come back as bare GUIDs).
    // The custom one is visible where its subscription is, and at tenant scope.
    const row = roleDefinitionRow(tenant, definition);
    const visible =
      scope.tenantWide === true ||
      (definition.type === "BuiltInRole" ? COMMON_BUILT_IN_ROLE_NAMES.has(definition.roleName) : scope.subscriptions.has(String(row.subscriptionId).toLowerCase()));
    if (visible) yield row;
  }
  for (const assignment of tenant.roleAssignments) {
    if (scope.authorizationVisible(ancestryOf(tenant, assignment))) yield roleAssignmentRow(tenant, assignment);
  }
}

export function* resourceContainerRows(tenant: TenantModel, scope: RowScope): Generator<TableRow> {
  for (const subscription of tenant.subscriptions) {
    const key = subscription.subscriptionId.toLowerCase();
    if (!scope.subscriptions.has(key)) continue;
    const chain = ancestryOf(tenant, { scopeKind: "subscription", subscriptionId: key, resourceGroup: "", managementGroup: "" }).slice(1);
    yield resourceGraphRow({
      id: `/subscriptions/${subscription.subscriptionId}`,
      name: subscription.displayName,
      type: "microsoft.resources/subscriptions",
      tenantId: tenant.tenantId,
      subscriptionId: subscription.subscriptionId,
      properties: {
        state: "Enabled",
        subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "EnterpriseAgreement_2014-09-01", spendingLimit: "Off" },
        managementGroupAncestorsChain: chain.map((entry) => {
          const group = tenant.managementGroups.find((g) => `mg:${g.name.toLowerCase()}` === entry);
          return { name: group?.name ?? entry.slice(3), displayName: group?.displayName ?? entry.slice(3) };
        }),
      },
      tags: {},
    });
    for (const group of subscription.resourceGroups) {
      yield resourceGraphRow({
        id: `/subscriptions/${subscription.subscriptionId}/resourceGroups/${group}`,
        name: group,
        type: "microsoft.resources/subscriptions/resourcegroups",
        tenantId: tenant.tenantId,
        location: subscription.locations[0] ?? "eastus",
        resourceGroup: group.toLowerCase(),
        subscriptionId: subscription.subscriptionId,
        properties: { provisioningState: "Succeeded" },
        tags: {},
      });
    }
  }
}

/** The tables of one tenant within a scope, as lazily iterated collections. */
export function tablesFor(tenant: TenantModel, scope: RowScope): Record<string, Iterable<TableRow>> {
  return {
    resources: { [Symbol.iterator]: () => resourcesRows(tenant, scope) },
    authorizationresources: { [Symbol.iterator]: () => authorizationRows(tenant, scope) },
    resourcecontainers: { [Symbol.iterator]: () => resourceContainerRows(tenant, scope) },
    policyresources: { [Symbol.iterator]: () => policyResourcesRows(tenant, scope) },
  };
}

