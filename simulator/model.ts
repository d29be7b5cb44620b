/**
 * The simulated tenants as the simulator stores them. Public, read-only views of these records are the
 * ground truth tests compare against (see groundTruth.ts); the server reads and mutates the records.
 *
 * Memory: one record per identity (about 1 KB with its strings); associated resources and federated
 * credentials are not stored but regenerated from (tenant seed, identity index, position) on demand,
 * so a tenant of 100,000 identities and a million associations fits in well under 200 MB.
 */
import type { AssociatedResource } from "../src/arm/types.js";

export type CreatedByType = "User" | "Application" | "ManagedIdentity";

/**
 * How an identity is used without `listAssociatedResources` listing it (see hiddenUsage.ts):
 * - `previewType`: named in `identity.userAssignedIdentities` of a resource whose type supports managed
 *   identities only in preview (the docs: "preview resource types may be missing");
 * - `kubelet`: the kubelet identity of an AKS cluster (`properties.identityProfile.kubeletidentity`), whose own
 *   identity bag holds another (control-plane) identity;
 * - `properties`: named only inside a resource's `properties` (customer-managed key, Key Vault reference identity);
 * - `policyAssignment`: the identity of a policy assignment at a management group (`policyresources`);
 * - `signInOnly`: used by ephemeral consumers (deployment scripts, container groups, ML jobs) that exist only while
 *   they run: no resource names it now, only sign-in logs show it.
 */
export type HiddenUsageKind = "previewType" | "kubelet" | "properties" | "policyAssignment" | "signInOnly";

export const HIDDEN_USAGE_KINDS: readonly HiddenUsageKind[] = ["previewType", "kubelet", "properties", "policyAssignment", "signInOnly"];
/** Where a role assignment is made; `root` is the root scope "/" (where elevated access lands). */
export type RoleScopeKind = "root" | "managementGroup" | "subscription" | "resourceGroup";

export interface SubscriptionTruth {
  readonly subscriptionId: string;
  readonly displayName: string;
  /** Resource group names in their canonical casing (ARG lower-cases them in its `resourceGroup` column). */
  readonly resourceGroups: readonly string[];
  /** Name of the management group the subscription sits in (the tenant root group's name is the tenant id). */
  readonly managementGroup: string;
}

export interface ManagementGroupTruth {
  /** The group's name (its id's last segment); the tenant root group is named after the tenant id. */
  readonly name: string;
  readonly displayName: string;
  /** `/providers/Microsoft.Management/managementGroups/{name}` */
  readonly id: string;
  readonly parent?: string;
}

export interface RoleDefinitionTruth {
  /** The definition's GUID (last segment of every form of its id). */
  readonly name: string;
  /** As Resource Graph lists it in `authorizationresources`. */
  readonly id: string;
  readonly roleName: string;
  readonly type: "BuiltInRole" | "CustomRole";
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  /** Owner, Contributor, User Access Administrator, or any role granting `*`. */
  readonly privileged: boolean;
  readonly wildcardActions: boolean;
}

export interface RoleAssignmentTruth {
  readonly id: string;
  /** The assignment's GUID. */
  readonly name: string;
  readonly principalId: string;
  readonly principalType: "ServicePrincipal" | "User" | "Group";
  /** As ARM writes it in the assignment: `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}` or the provider-level form for management-group scopes. */
  readonly roleDefinitionId: string;
  readonly roleName: string;
  readonly scope: string;
  readonly scopeKind: RoleScopeKind;
  /** Subscription of the scope, "" for management-group scopes. */
  readonly subscriptionId: string;
  /** Canonical resource group name for resource-group scopes, "" otherwise. */
  readonly resourceGroup: string;
  /** Management group name for management-group scopes, "" otherwise. */
  readonly managementGroup: string;
  readonly privileged: boolean;
  readonly wildcardActions: boolean;
  readonly createdOn: string;
}

export interface FederatedCredentialTruth {
  readonly id: string;
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
}

export interface IdentityTruth {
  readonly tenantId: string;
  /** The ARM id exactly as Resource Graph and the identity GET return it (`resourcegroups` or `resourceGroups`, see README). */
  readonly id: string;
  readonly name: string;
  readonly subscriptionId: string;
  /** As Resource Graph's `resourceGroup` column has it: lower-cased. */
  readonly resourceGroup: string;
  /** The resource group's canonical casing (what the portal shows). */
  readonly resourceGroupName: string;
  readonly location: string;
  readonly principalId: string;
  readonly clientId: string;
  readonly tags: Readonly<Record<string, string>>;
  /** `systemData.createdAt` as the GET returns it (seven fractional digits, like ARM). */
  readonly createdAt: string;
  readonly createdBy: string;
  readonly createdByType: CreatedByType;
  /** Total associated resources now (follows addAssociation/removeAssociations). */
  readonly associationCount: number;
  readonly federatedCredentialCount: number;
  /** Role assignments whose principal is this identity. */
  readonly roleAssignments: readonly RoleAssignmentTruth[];
  /** Carries the tag `uami-audit-exempt`. */
  readonly exempt: boolean;
  /**
   * Uses `listAssociatedResources` does not list (empty for most identities). An identity with hidden usage has
   * zero associations, no federated credential, no exemption tag, and was created long ago.
   */
  readonly hiddenUsage: readonly HiddenUsageKind[];
}

/** Internal, mutable record behind an `IdentityTruth`. */
export interface IdentityRecord extends IdentityTruth {
  /** Position in the tenant's generation order; the key for lazily generated associations. */
  readonly index: number;
  readonly subscription: SubscriptionRecord;
  associationCount: number;
  /** Associations 0..generatedAssociations-1 are regenerated from the seed. */
  generatedAssociations: number;
  /**
   * Served after the generated ones: the AKS clusters of hidden-kubelet identities this identity is the control
   * plane of (placed at generation), then those added at run time by `addAssociation` (a shared empty array until then).
   */
  extraAssociations: readonly AssociatedResource[];
  /** Resource Graph shows `tags: null` rather than `{}` for this identity (both occur in real tenants). */
  readonly argTagsNull: boolean;
  deleted: boolean;
  /** A shared empty array until the identity gets its first assignment (saves memory at 100k identities). */
  roleAssignments: readonly RoleAssignmentTruth[];
  /** A shared empty array for most identities; `kubelet` leaves it when its cluster is removed. */
  hiddenUsage: readonly HiddenUsageKind[];
}

/**
 * An AKS cluster running with a hidden-`kubelet` identity. It is an association of its control-plane identity
 * (kept in that identity's `extraAssociations`, so `listAssociatedResources` lists it for the control plane),
 * and Resource Graph shows it with `properties.identityProfile.kubeletidentity` naming the kubelet identity.
 */
export interface KubeletCluster {
  /** The cluster as the control plane's listAssociatedResources lists it. */
  readonly resource: AssociatedResource;
  readonly controlPlane: IdentityRecord;
  readonly kubelet: IdentityRecord;
  readonly location: string;
}

export interface SubscriptionRecord extends SubscriptionTruth {
  readonly index: number;
  /** Lower-cased resource group name -> canonical name. */
  readonly resourceGroupByKey: ReadonlyMap<string, string>;
  readonly locations: readonly string[];
}

export interface TenantModel {
  readonly index: number;
  readonly tenantId: string;
  /** 32-bit number derived from the seed; the root of every lazily generated record of the tenant. */
  readonly seedNumber: number;
  /** The token `startSimulator` reports for this tenant. */
  readonly token: string;
  readonly subscriptions: readonly SubscriptionRecord[];
  readonly subscriptionByKey: ReadonlyMap<string, SubscriptionRecord>;
  readonly managementGroups: readonly ManagementGroupTruth[];
  /** Every identity ever generated, in generation order, deleted ones included (flagged). */
  readonly allIdentities: readonly IdentityRecord[];
  /** Live identities (deleted ones are spliced out). */
  readonly identities: IdentityRecord[];
  /** `identityKey(...)` -> record (deleted ones included, flagged). */
  readonly identityByKey: ReadonlyMap<string, IdentityRecord>;
  readonly roleDefinitions: readonly RoleDefinitionTruth[];
  readonly roleAssignments: readonly RoleAssignmentTruth[];
  /** Reference time of the generation (createdAt values are before it). */
  readonly now: number;
  /** The clusters of hidden-`kubelet` identities, by the resource object in the control plane's `extraAssociations` (removeAssociations deletes). */
  readonly kubeletClusters: Map<AssociatedResource, KubeletCluster>;
}

/**
 * The lookup key of an identity: subscription, group and name lower-cased (ARM ids are
 * case-insensitive), shorter than the id itself because 100,000 of them are kept.
 */
export function identityKey(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${subscriptionId}/${resourceGroup}/${name}`.toLowerCase();
}

const IDENTITY_ID = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.managedidentity\/userassignedidentities\/([^/]+?)\/*$/i;

/** The key of any form of an identity's ARM id (either casing of `resourceGroups`, trailing slash); "" when it is no identity id. */
export function keyOfId(id: string): string {
  const match = IDENTITY_ID.exec(id.trim());
  return match ? identityKey(match[1] as string, match[2] as string, match[3] as string) : "";
}

/** The subscription id of a key made by `identityKey`. */
export function subscriptionOfKey(key: string): string {
  return key.slice(0, key.indexOf("/"));
}

export const EMPTY_LIST: readonly never[] = Object.freeze([]);
export const EMPTY_TAGS: Readonly<Record<string, string>> = Object.freeze({});
