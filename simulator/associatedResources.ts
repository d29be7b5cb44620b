/**
 * The resources that use an identity, as `listAssociatedResources` returns them. They are not stored:
 * association k of identity i is regenerated from (tenant seed, i, k), which keeps a million of them at
 * zero memory; associations added at run time are kept on the identity record.
 *
 * Shapes follow the real answers: `type` lower-cased ("microsoft.web/sites" in
 * azure-powershell/.../Get-AzUserAssignedIdentityAssociatedResource.Recording.json), `id` keeping the
 * provider's casing, and `resourceGroup` lower-cased as the docs' `az identity list-resources` sample
 * shows ("resourceGroup": "productionservices" for ".../resourceGroups/ProductionServices/...",
 * seeds/000_94790adf3cc96801.txt), because the API is backed by Resource Graph.
 */
import type { AssociatedResource } from "../src/arm/types.js";
import type { IdentityRecord, SubscriptionRecord, TenantModel } from "./model.js";
import { kubeletClusterProperties } from "./hiddenUsage.js";
import { mix32, pickWeighted } from "./prng.js";
import { WORKLOADS } from "./names.js";

export interface ResourceKind {
  /** Provider casing, as it appears in ids. */
  readonly type: string;
  readonly weight: number;
  /** ARG `kind` column. */
  readonly kind: string;
  readonly name: (word: string, suffix: string, hash: number) => string;
  /** Subscription-level resources (policy assignments) have no resource group. */
  readonly subscriptionScope?: boolean;
  /** Resource Graph's table for the type: `resources` unless said (policy assignments live in `policyresources`). */
  readonly table?: "policyresources";
}

const dashed = (prefix: string) => (word: string, suffix: string) => `${prefix}-${word}-${suffix}`;

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  { type: "Microsoft.Compute/virtualMachines", weight: 18, kind: "", name: dashed("vm") },
  { type: "Microsoft.Compute/virtualMachineScaleSets", weight: 6, kind: "", name: dashed("vmss") },
  { type: "Microsoft.Web/sites", weight: 18, kind: "app,linux", name: dashed("app") },
  { type: "Microsoft.Web/sites", weight: 12, kind: "functionapp,linux", name: dashed("func") },
  { type: "Microsoft.ContainerService/managedClusters", weight: 5, kind: "", name: dashed("aks") },
  { type: "Microsoft.App/containerApps", weight: 8, kind: "containerapps", name: dashed("ca") },
  { type: "Microsoft.Logic/workflows", weight: 6, kind: "", name: (w, s) => `logic_${w}.${s}` },
  { type: "Microsoft.DataFactory/factories", weight: 4, kind: "", name: dashed("adf") },
  { type: "Microsoft.Automation/automationAccounts", weight: 3, kind: "", name: dashed("aa") },
  { type: "Microsoft.CognitiveServices/accounts", weight: 3, kind: "OpenAI", name: dashed("oai") },
  { type: "Microsoft.ApiManagement/service", weight: 2, kind: "", name: dashed("apim") },
  { type: "Microsoft.Sql/servers", weight: 3, kind: "v12.0", name: dashed("sql") },
  {
    type: "Microsoft.Storage/storageAccounts",
    weight: 2,
    kind: "StorageV2",
    name: (w, s) => `st${w}${s.replace(/-/g, "")}`.slice(0, 24),
  },
  { type: "Microsoft.ContainerInstance/containerGroups", weight: 3, kind: "", name: dashed("aci") },
  {
    // The docs warn that policy assignment names display wrongly: they come back as bare GUID-like hashes.
    type: "Microsoft.Authorization/policyAssignments",
    weight: 2,
    kind: "",
    name: (_w, _s, hash) => `${hash.toString(16).padStart(8, "0")}${mix32(hash, 1).toString(16).padStart(8, "0")}${mix32(hash, 2).toString(16).padStart(8, "0")}`,
    subscriptionScope: true,
    table: "policyresources",
  },
];

const KIND_WEIGHTS: readonly (readonly [ResourceKind, number])[] = RESOURCE_KINDS.map((k) => [k, k.weight] as const);

/** An associated resource plus what Resource Graph shows of it beyond the six listed fields. */
export interface AssociationRecord {
  readonly resource: AssociatedResource;
  readonly location: string;
  readonly kind: string;
  /** The Resource Graph table that lists the resource. */
  readonly table: "resources" | "policyresources";
  /** The resource's `properties` when they matter (an AKS cluster running a hidden kubelet identity); else generic ones. */
  readonly properties?: Readonly<Record<string, unknown>>;
}

const POLICY_ASSIGNMENT_ID = /\/providers\/microsoft\.authorization\/policyassignments\//i;

export function resourceId(subscriptionId: string, resourceGroup: string, providerType: string, name: string): string {
  return resourceGroup
    ? `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${providerType}/${name}`
    : `/subscriptions/${subscriptionId}/providers/${providerType}/${name}`;
}

/**
 * One lower-cased string per distinct type or group name, shared by every resource: a million associations
 * regenerated per Resource Graph query would otherwise each hold two fresh copies.
 */
const lowerCased = new Map<string, string>();
function sharedLower(text: string): string {
  let lower = lowerCased.get(text);
  if (lower === undefined) {
    lower = text.toLowerCase();
    if (lowerCased.size > 10_000) lowerCased.clear();
    lowerCased.set(text, lower);
  }
  return lower;
}

export function associatedResource(subscription: SubscriptionRecord, resourceGroup: string, providerType: string, name: string): AssociatedResource {
  return {
    id: resourceId(subscription.subscriptionId, resourceGroup, providerType, name),
    name,
    type: sharedLower(providerType),
    resourceGroup: sharedLower(resourceGroup),
    subscriptionId: subscription.subscriptionId,
    subscriptionDisplayName: subscription.displayName,
  };
}

const unit = (hash: number) => hash / 4294967296;

/** Association `k` (0-based) of an identity, regenerated from the seed. */
export function generatedAssociation(tenant: TenantModel, identity: IdentityRecord, k: number): AssociationRecord {
  const h = mix32(tenant.seedNumber, identity.index, k);
  const kind = pickWeighted(KIND_WEIGHTS, unit(h));
  const subscriptions = tenant.subscriptions;
  // Most resources sit in the identity's subscription; some use an identity of another subscription
  // of the same tenant, which ARM allows.
  const hSub = mix32(h, 11);
  const crossSubscription = subscriptions.length > 1 && hSub % 100 < 12;
  const subscription = crossSubscription ? (subscriptions[mix32(hSub, 3) % subscriptions.length] as SubscriptionRecord) : identity.subscription;
  const hRg = mix32(h, 13);
  const sameGroup = subscription === identity.subscription && hRg % 100 < 60;
  const resourceGroup = kind.subscriptionScope
    ? ""
    : sameGroup
      ? identity.resourceGroupName
      : (subscription.resourceGroups[mix32(hRg, 5) % subscription.resourceGroups.length] as string);
  const word = WORKLOADS[mix32(h, 17) % WORKLOADS.length] as string;
  const suffix = `${identity.index.toString(36)}-${k.toString(36)}`;
  const name = kind.name(word, suffix, h);
  const location = mix32(h, 19) % 100 < 80 ? identity.location : (subscription.locations[mix32(h, 23) % subscription.locations.length] as string);
  return { resource: associatedResource(subscription, resourceGroup, kind.type, name), location, kind: kind.kind, table: kind.table ?? "resources" };
}

/**
 * Every association of an identity in the order the simulator serves them: generated, then the extra ones
 * (kubelet clusters placed at generation, then those added at run time).
 */
export function associationRecordsOf(tenant: TenantModel, identity: IdentityRecord): AssociationRecord[] {
  const records: AssociationRecord[] = [];
  for (let k = 0; k < identity.generatedAssociations; k++) records.push(generatedAssociation(tenant, identity, k));
  for (const resource of identity.extraAssociations) {
    const cluster = tenant.kubeletClusters.get(resource);
    if (cluster) {
      records.push({ resource, location: cluster.location, kind: "", table: "resources", properties: kubeletClusterProperties(cluster) });
      continue;
    }
    records.push({ resource, location: identity.location, kind: "", table: POLICY_ASSIGNMENT_ID.test(resource.id) ? "policyresources" : "resources" });
  }
  return records;
}

export function associationsOf(tenant: TenantModel, identity: IdentityRecord): AssociatedResource[] {
  return associationRecordsOf(tenant, identity).map((r) => r.resource);
}

/**
 * Completes a partial resource given to `addAssociation`: defaults to a web app in the identity's
 * resource group, with an id consistent with whatever fields were given.
 */
export function completeAssociation(tenant: TenantModel, identity: IdentityRecord, partial: Partial<AssociatedResource> | undefined, serial: number): AssociatedResource {
  const subscription =
    (partial?.subscriptionId && tenant.subscriptionByKey.get(partial.subscriptionId.toLowerCase())) || identity.subscription;
  const resourceGroup =
    partial?.resourceGroup !== undefined
      ? (subscription.resourceGroupByKey.get(partial.resourceGroup.toLowerCase()) ?? partial.resourceGroup)
      : identity.resourceGroupName;
  const providerType = partial?.type ? partial.type : "Microsoft.Web/sites";
  const name = partial?.name ?? `app-added-${identity.index.toString(36)}-${serial}`;
  const base = associatedResource(subscription, resourceGroup, providerType, name);
  return {
    id: partial?.id ?? base.id,
    name,
    type: (partial?.type ?? base.type).toLowerCase(),
    resourceGroup: (partial?.resourceGroup ?? base.resourceGroup).toLowerCase(),
    subscriptionId: partial?.subscriptionId ?? base.subscriptionId,
    subscriptionDisplayName: partial?.subscriptionDisplayName ?? base.subscriptionDisplayName,
  };
}
