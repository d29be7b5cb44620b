/**
 * Builds one simulated tenant, deterministically from a seed: subscriptions and resource groups with
 * hostile names, identities with a skewed number of associated resources, federated credentials, role
 * assignments (privileged ones included), tags and creation dates.
 *
 * What is guaranteed whenever the tenant has at least 10 identities (so small test tenants still cover
 * every case): one identity with about 1000 associations and one with a few hundred (paging), an unused
 * identity carrying the exemption tag, an unused one created in the last 3 days, an unused one with 3
 * federated credentials, unused identities holding Owner / User Access Administrator / the `*` custom
 * role, and the hand-written hostile identity names of names.ts.
 *
 * Hidden usage (hiddenUsage.ts): a share of identities (`hiddenUsageShare`, default 5 %) is used in ways
 * `listAssociatedResources` does not list; they have zero associations, no federated credential, no exemption
 * tag and were created at least 90 days ago. With 20 identities or more, every kind occurs at least once
 * (`hiddenUsageShare: 0` turns the case off). These identities are neither in the `unusedShare` (which counts
 * identities with no use at all) nor among the used ones.
 */
import { makeToken } from "./auth.js";
import { associatedResource } from "./associatedResources.js";
import type {
  CreatedByType,
  HiddenUsageKind,
  IdentityRecord,
  KubeletCluster,
  ManagementGroupTruth,
  RoleAssignmentTruth,
  RoleDefinitionTruth,
  RoleScopeKind,
  SubscriptionRecord,
  TenantModel,
} from "./model.js";
import type { AssociatedResource } from "../src/arm/types.js";
import { EMPTY_LIST, EMPTY_TAGS, HIDDEN_USAGE_KINDS, identityKey } from "./model.js";
import {
  ENVIRONMENTS,
  EXEMPT_TAG,
  HOSTILE_IDENTITY_NAMES,
  HOSTILE_RESOURCE_GROUPS,
  IDENTITY_PREFIXES,
  LOCATIONS,
  PLAIN_RESOURCE_GROUPS,
  SUBSCRIPTION_NAMES,
  USER_PRINCIPALS,
  WORKLOADS,
} from "./names.js";
import { join, Prng } from "./prng.js";
import { CUSTOM_ROLE_NAME, ROLE_WEIGHTS, roleDefinitionsFor } from "./roles.js";

export interface TenantGenerationOptions {
  seed: number | string;
  /** Which tenant of the simulator (0-based); each index gives an unrelated tenant. Default 0. */
  tenantIndex?: number;
  identities: number;
  /** Share of identities with no use at all (zero associations, no hidden usage). Default 0.2. */
  unusedShare?: number;
  /**
   * Share of identities with hidden usage (zero associations, used all the same; see hiddenUsage.ts). Default
   * 0.05; with 20 identities or more at least one of each kind, room permitting. 0 turns it off.
   */
  hiddenUsageShare?: number;
  /** Default 4. */
  subscriptions?: number;
  /**
   * Reference time: creation dates lie before it. Default: the start of the current UTC day, so two
   * runs on the same day generate identical tenants.
   */
  now?: number | Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DEFAULT_SUBSCRIPTIONS = 4;
export const DEFAULT_UNUSED_SHARE = 0.2;
export const DEFAULT_HIDDEN_USAGE_SHARE = 0.05;
/** Identities with hidden usage are at least this old, past any grace period an audit applies to new identities. */
export const HIDDEN_USAGE_MIN_AGE_DAYS = 90;

export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

/** ARM prints timestamps with seven fractional digits (.NET ticks): 2023-02-07T16:44:17.1234567Z. */
export function armTimestamp(ms: number, extraDigits: number): string {
  return join(new Date(ms).toISOString().slice(0, -1), String(extraDigits % 10000).padStart(4, "0"), "Z");
}

function resourceGroupsFor(prng: Prng, index: number, total: number): string[] {
  const count = total <= 10 ? 8 : total <= 100 ? 4 : 2;
  const plain = prng.shuffle([...PLAIN_RESOURCE_GROUPS]);
  if (index === 0) return [...HOSTILE_RESOURCE_GROUPS, ...plain].slice(0, Math.max(count, HOSTILE_RESOURCE_GROUPS.length));
  // Other subscriptions get one hostile group now and then, so hostile names are not confined to one subscription.
  const groups = plain.slice(0, count);
  if (count > 2 && prng.chance(0.5)) groups[0] = prng.pick(HOSTILE_RESOURCE_GROUPS);
  return groups;
}

function subscriptionName(index: number): string {
  const base = SUBSCRIPTION_NAMES[index % SUBSCRIPTION_NAMES.length] as string;
  const round = Math.floor(index / SUBSCRIPTION_NAMES.length);
  return round === 0 ? base : `${base} ${round + 1}`;
}

function managementGroupsFor(tenantId: string): ManagementGroupTruth[] {
  const mg = (name: string, displayName: string, parent?: string): ManagementGroupTruth => ({
    name,
    displayName,
    id: `/providers/Microsoft.Management/managementGroups/${name}`,
    ...(parent ? { parent } : {}),
  });
  return [mg(tenantId, "Tenant Root Group"), mg("contoso-platform", "Platform", tenantId), mg("contoso-landingzones", "Landing Zones", tenantId)];
}

function generateSubscriptions(prng: Prng, total: number, tenantId: string): SubscriptionRecord[] {
  const subscriptions: SubscriptionRecord[] = [];
  for (let index = 0; index < total; index++) {
    const subscriptionId = prng.uuid();
    const resourceGroups = resourceGroupsFor(prng, index, total);
    const first = prng.int(0, LOCATIONS.length - 1);
    const locations = [0, 1, 2].map((k) => LOCATIONS[(first + k * 2) % LOCATIONS.length] as string);
    subscriptions.push({
      index,
      subscriptionId,
      displayName: subscriptionName(index),
      resourceGroups,
      resourceGroupByKey: new Map(resourceGroups.map((rg) => [rg.toLowerCase(), rg])),
      managementGroup: index === 0 ? tenantId : index % 2 === 1 ? "contoso-platform" : "contoso-landingzones",
      locations,
    });
  }
  return subscriptions;
}

/** Skewed: most identities have 1 to 3 resources, a few hundreds or about a thousand. */
function drawAssociationCount(prng: Prng): number {
  const u = prng.next();
  if (u < 0.55) return 1;
  if (u < 0.73) return 2;
  if (u < 0.83) return 3;
  if (u < 0.91) return prng.int(4, 9);
  if (u < 0.971) return prng.int(10, 99);
  if (u < 0.996) return prng.int(100, 499);
  return prng.int(500, 1100);
}

function identityName(prng: Prng, index: number): string {
  const hostile = HOSTILE_IDENTITY_NAMES[index];
  if (hostile !== undefined) return hostile;
  const prefix = prng.pick(IDENTITY_PREFIXES);
  const workload = prng.pick(WORKLOADS);
  const env = prng.pick(ENVIRONMENTS);
  const suffix = index.toString(36);
  const style = prng.next();
  // The index suffix keeps names unique (case-insensitively) within any resource group.
  if (style < 0.6) return join(prefix, "-", workload, "-", env, "-", suffix);
  if (style < 0.8) return join(prefix, "_", workload, "_", env, "_", suffix);
  if (style < 0.9) return join(prefix.toUpperCase(), "-", workload, "-", env.toUpperCase(), "-", suffix);
  return join(workload, env, suffix);
}

function generateTags(prng: Prng, exempt: boolean, exemptKey: string): Readonly<Record<string, string>> {
  const tags: Record<string, string> = {};
  if (prng.chance(0.5)) {
    tags.env = prng.pick(ENVIRONMENTS);
    if (prng.chance(0.6)) tags.owner = prng.pick(["team-platform@contoso.com", "zoë.müller@contoso.com", "sre"]);
    if (prng.chance(0.3)) tags["Cost Center"] = prng.pick(["R&D / 4711", "Ops & Infra", "1234"]);
    if (prng.chance(0.1)) tags["プロジェクト"] = "日本語タグ";
    if (prng.chance(0.1)) tags["hidden-title"] = 'Prod: "quoted" value, with comma';
  }
  if (exempt) tags[exemptKey] = "true";
  return Object.keys(tags).length === 0 ? EMPTY_TAGS : tags;
}

function sharedLowerCase(cache: Map<string, string>, text: string): string {
  let lower = cache.get(text);
  if (lower === undefined) {
    lower = text.toLowerCase();
    cache.set(text, lower);
  }
  return lower;
}

interface Guarantees {
  exempt: Set<number>;
  recent: Set<number>;
  ficCount: Map<number, number>;
  associationCount: Map<number, number>;
}

/** How many identities get hidden usage: the share, at least one per kind from 20 identities, leaving room for the used ones. */
function hiddenCountFor(total: number, unusedCount: number, share: number): number {
  if (share <= 0) return 0;
  let count = Math.round(total * share);
  if (total >= 20) count = Math.max(count, HIDDEN_USAGE_KINDS.length);
  // The two busy used identities of the paging guarantee (also the kubelet clusters' control planes) stay used.
  const room = Math.max(0, total - unusedCount - (total >= 10 ? 2 : 1));
  return Math.min(count, room);
}

/** Kinds of the j-th identity with hidden usage: every kind in turn, a second one now and then (never with signInOnly). */
function hiddenKindsFor(prng: Prng, j: number): readonly HiddenUsageKind[] {
  const first = HIDDEN_USAGE_KINDS[j % HIDDEN_USAGE_KINDS.length] as HiddenUsageKind;
  if (j < HIDDEN_USAGE_KINDS.length || first === "signInOnly" || !prng.chance(0.15)) return [first];
  const others = HIDDEN_USAGE_KINDS.filter((k) => k !== first && k !== "signInOnly");
  return [first, prng.pick(others)];
}

/**
 * Decides which identities are unused (an exact share, shuffled), which have hidden usage (the next ones in
 * the shuffled order) and pins the guaranteed cases listed at the top of this file onto specific identities.
 */
function planIdentities(
  prng: Prng,
  total: number,
  unusedShare: number,
  hiddenShare: number,
): { unused: boolean[]; hidden: Map<number, readonly HiddenUsageKind[]>; guarantees: Guarantees; order: number[]; unusedCount: number; hiddenCount: number } {
  const order = prng.shuffle(Array.from({ length: total }, (_, i) => i));
  const unusedCount = Math.round(total * unusedShare);
  const unused = new Array<boolean>(total).fill(false);
  for (let j = 0; j < unusedCount; j++) unused[order[j] as number] = true;
  const hiddenCount = hiddenCountFor(total, unusedCount, hiddenShare);
  const hidden = new Map<number, readonly HiddenUsageKind[]>();
  for (let j = 0; j < hiddenCount; j++) hidden.set(order[unusedCount + j] as number, hiddenKindsFor(prng, j));
  const guarantees: Guarantees = { exempt: new Set(), recent: new Set(), ficCount: new Map(), associationCount: new Map() };
  if (total >= 10) {
    const unusedOrder = order.slice(0, unusedCount);
    const usedOrder = order.slice(unusedCount + hiddenCount);
    if (unusedOrder[0] !== undefined) guarantees.exempt.add(unusedOrder[0]);
    if (unusedOrder[1] !== undefined) guarantees.recent.add(unusedOrder[1]);
    if (unusedOrder[2] !== undefined) guarantees.ficCount.set(unusedOrder[2], 3);
    if (usedOrder[0] !== undefined) guarantees.associationCount.set(usedOrder[0], prng.int(990, 1010));
    if (usedOrder[1] !== undefined) guarantees.associationCount.set(usedOrder[1], prng.int(250, 400));
    if (usedOrder[2] !== undefined) guarantees.recent.add(usedOrder[2]);
  }
  return { unused, hidden, guarantees, order, unusedCount, hiddenCount };
}

interface RoleContext {
  prng: Prng;
  tenantId: string;
  definitions: Map<string, RoleDefinitionTruth>;
  subscriptions: readonly SubscriptionRecord[];
  managementGroups: readonly ManagementGroupTruth[];
  now: number;
}

function roleAssignment(
  ctx: RoleContext,
  principalId: string,
  principalType: RoleAssignmentTruth["principalType"],
  roleName: string,
  scopeKind: RoleScopeKind,
  subscription: SubscriptionRecord,
  resourceGroup: string,
  managementGroup: string,
): RoleAssignmentTruth {
  const definition = ctx.definitions.get(roleName);
  if (!definition) throw new Error(`unknown role ${roleName}`);
  const name = ctx.prng.uuid();
  let scope: string;
  let roleDefinitionId: string;
  if (scopeKind === "root") {
    scope = "/";
    roleDefinitionId = `/providers/Microsoft.Authorization/roleDefinitions/${definition.name}`;
  } else if (scopeKind === "managementGroup") {
    scope = `/providers/Microsoft.Management/managementGroups/${managementGroup}`;
    roleDefinitionId = `/providers/Microsoft.Authorization/roleDefinitions/${definition.name}`;
  } else {
    scope = scopeKind === "subscription" ? `/subscriptions/${subscription.subscriptionId}` : `/subscriptions/${subscription.subscriptionId}/resourceGroups/${resourceGroup}`;
    roleDefinitionId = `/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${definition.name}`;
  }
  return {
    id: `${scope === "/" ? "" : scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    principalId,
    principalType,
    roleDefinitionId,
    roleName,
    scope,
    scopeKind,
    subscriptionId: scopeKind === "managementGroup" || scopeKind === "root" ? "" : subscription.subscriptionId,
    resourceGroup: scopeKind === "resourceGroup" ? resourceGroup : "",
    managementGroup: scopeKind === "managementGroup" ? managementGroup : "",
    privileged: definition.privileged,
    wildcardActions: definition.wildcardActions,
    createdOn: armTimestamp(ctx.now - ctx.prng.int(1, 600) * DAY, 0),
  };
}

function randomAssignmentFor(ctx: RoleContext, identity: IdentityRecord): RoleAssignmentTruth {
  const { prng } = ctx;
  const roleName = prng.weighted(ROLE_WEIGHTS);
  const u = prng.next();
  const scopeKind: RoleScopeKind = u < 0.6 ? "subscription" : u < 0.9 ? "resourceGroup" : "managementGroup";
  const subscription = prng.chance(0.9) ? identity.subscription : prng.pick(ctx.subscriptions);
  const resourceGroup = subscription === identity.subscription && prng.chance(0.7) ? identity.resourceGroupName : prng.pick(subscription.resourceGroups);
  const managementGroup = prng.pick(ctx.managementGroups).name;
  return roleAssignment(ctx, identity.principalId, "ServicePrincipal", roleName, scopeKind, subscription, resourceGroup, managementGroup);
}

function generateRoleAssignments(ctx: RoleContext, identities: IdentityRecord[], unusedOrder: number[], usedOrder: number[]): RoleAssignmentTruth[] {
  const { prng } = ctx;
  const all: RoleAssignmentTruth[] = [];
  const give = (identity: IdentityRecord, assignment: RoleAssignmentTruth) => {
    identity.roleAssignments = [...identity.roleAssignments, assignment];
    all.push(assignment);
  };
  for (const identity of identities) {
    if (!prng.chance(0.12)) continue;
    const count = prng.int(1, 3);
    for (let k = 0; k < count; k++) give(identity, randomAssignmentFor(ctx, identity));
  }
  // Coverage of the privileged cases an audit must rank, whatever the seed.
  // Cycling through the order keeps the coverage in tenants with only a few unused identities.
  const nth = (order: number[], k: number) => (order.length > 0 ? identities[order[k % order.length] as number] : undefined);
  const pinned: [IdentityRecord | undefined, string, RoleScopeKind][] = [
    [nth(unusedOrder, 3), "Owner", "subscription"],
    [nth(unusedOrder, 4), "User Access Administrator", "managementGroup"],
    [nth(unusedOrder, 5), CUSTOM_ROLE_NAME, "subscription"],
    [nth(unusedOrder, 6), "Contributor", "resourceGroup"],
    [nth(usedOrder, 3), "Contributor", "subscription"],
    [nth(usedOrder, 4), "Owner", "managementGroup"],
    [nth(usedOrder, 5), "User Access Administrator", "subscription"],
  ];
  if (identities.length >= 10) {
    for (const [identity, roleName, scopeKind] of pinned) {
      if (!identity) continue;
      const managementGroup = scopeKind === "managementGroup" ? ctx.tenantId : "";
      give(identity, roleAssignment(ctx, identity.principalId, "ServicePrincipal", roleName, scopeKind, identity.subscription, identity.resourceGroupName, managementGroup));
    }
  }
  // Assignments above the identity's subscription, which an audit scoped to that subscription must still
  // count, and a role only a tenant-scope query names: the management group holding the subscription, the
  // root scope "/" (where elevated access lands), and AcrPull (not one of the common built-in roles). Drawn
  // from a generator of their own, so that a seed still gives the tenant it gave before these were added.
  if (identities.length >= 10) {
    const aboveCtx: RoleContext = { ...ctx, prng: new Prng(`${ctx.tenantId}/assignments-above`) };
    const above: [IdentityRecord | undefined, string, RoleScopeKind][] = [
      [nth(unusedOrder, 7), "Contributor", "managementGroup"],
      [nth(unusedOrder, 8), "Owner", "root"],
      [nth(unusedOrder, 9), "AcrPull", "subscription"],
    ];
    for (const [identity, roleName, scopeKind] of above) {
      if (!identity) continue;
      give(identity, roleAssignment(aboveCtx, identity.principalId, "ServicePrincipal", roleName, scopeKind, identity.subscription, "", identity.subscription.managementGroup));
    }
  }
  // Assignments of people and groups: noise an audit must not mistake for identities'.
  for (const subscription of ctx.subscriptions.slice(0, 50)) {
    for (let k = 0; k < 3; k++) {
      const type = prng.chance(0.6) ? "User" : "Group";
      all.push(roleAssignment(ctx, prng.uuid(), type, prng.weighted(ROLE_WEIGHTS), "subscription", subscription, "", ""));
    }
  }
  return all;
}

function validateOptions(options: TenantGenerationOptions): void {
  const { identities, unusedShare, hiddenUsageShare, subscriptions, tenantIndex } = options;
  if (!Number.isInteger(identities) || identities < 0) throw new TypeError(`identities must be a non-negative integer, got ${identities}`);
  if (unusedShare !== undefined && !(unusedShare >= 0 && unusedShare <= 1)) throw new TypeError(`unusedShare must be between 0 and 1, got ${unusedShare}`);
  if (hiddenUsageShare !== undefined && !(hiddenUsageShare >= 0 && hiddenUsageShare <= 1)) {
    throw new TypeError(`hiddenUsageShare must be between 0 and 1, got ${hiddenUsageShare}`);
  }
  if (subscriptions !== undefined && (!Number.isInteger(subscriptions) || subscriptions < 1)) {
    throw new TypeError(`subscriptionsPerTenant must be a positive integer, got ${subscriptions}`);
  }
  if (tenantIndex !== undefined && (!Number.isInteger(tenantIndex) || tenantIndex < 0)) throw new TypeError(`tenantIndex must be a non-negative integer, got ${tenantIndex}`);
}

export function generateTenant(options: TenantGenerationOptions): TenantModel {
  validateOptions(options);
  const seed = String(options.seed);
  const tenantIndex = options.tenantIndex ?? 0;
  const total = options.identities;
  const now = options.now === undefined ? startOfUtcDay(Date.now()) : typeof options.now === "number" ? options.now : options.now.getTime();
  const prng = new Prng(`${seed}/tenant/${tenantIndex}`);

  const tenantId = prng.uuid();
  const seedNumber = prng.nextUint32();
  const token = makeToken(seed, tenantId, 0, now).token;
  const subscriptions = generateSubscriptions(prng, options.subscriptions ?? DEFAULT_SUBSCRIPTIONS, tenantId);
  const firstSubscription = subscriptions[0] as SubscriptionRecord;
  const managementGroups = managementGroupsFor(tenantId);
  const roleDefinitions = roleDefinitionsFor(prng.uuid(), firstSubscription.subscriptionId);

  const { unused, hidden, guarantees, order, unusedCount, hiddenCount } = planIdentities(
    prng,
    total,
    options.unusedShare ?? DEFAULT_UNUSED_SHARE,
    options.hiddenUsageShare ?? DEFAULT_HIDDEN_USAGE_SHARE,
  );
  const identities: IdentityRecord[] = new Array<IdentityRecord>(total);
  const identityByKey = new Map<string, IdentityRecord>();
  // One lower-cased string per group name, shared by every identity in it.
  const lowerGroup = new Map<string, string>();
  let exemptSeen = 0;

  for (let index = 0; index < total; index++) {
    const hostileSlot = index < HOSTILE_IDENTITY_NAMES.length;
    // The hostile names go to the first subscription's hostile resource groups.
    const subscription = hostileSlot ? firstSubscription : (subscriptions[prng.int(0, subscriptions.length - 1)] as SubscriptionRecord);
    const resourceGroupName = hostileSlot
      ? (HOSTILE_RESOURCE_GROUPS[index % HOSTILE_RESOURCE_GROUPS.length] as string)
      : prng.pick(subscription.resourceGroups);
    const name = identityName(prng, index);
    const location = prng.pick(subscription.locations);
    const principalId = prng.uuid();
    const clientId = prng.uuid();
    // Both casings occur in real answers: `resourcegroups` in the MSI GET (PowerShell recording),
    // `resourceGroups` elsewhere; Resource Graph sometimes even lower-cases the group name in the id.
    const segment = prng.chance(0.6) ? "resourcegroups" : "resourceGroups";
    const groupInId = prng.chance(0.1) ? resourceGroupName.toLowerCase() : resourceGroupName;
    const id = join("/subscriptions/", subscription.subscriptionId, "/", segment, "/", groupInId, "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/", name);

    const isUnused = unused[index] === true;
    const hiddenUsage = hidden.get(index) ?? EMPTY_LIST;
    const isHidden = hiddenUsage.length > 0;
    // Identities with hidden usage never carry the exemption tag: the audit must get them right on evidence alone.
    const exempt = !isHidden && (guarantees.exempt.has(index) || prng.chance(isUnused ? 0.04 : 0.01));
    // Tag names are case-insensitive in Azure; a few exemptions are spelled with capitals.
    const exemptKey = exempt && !guarantees.exempt.has(index) && exemptSeen++ % 4 === 3 ? "UAMI-Audit-Exempt" : EXEMPT_TAG;
    const tags = generateTags(prng, exempt, exemptKey);
    const argTagsNull = Object.keys(tags).length === 0 && prng.chance(0.3);

    const recent = !isHidden && (guarantees.recent.has(index) || prng.chance(0.03));
    const ageMs = recent
      ? prng.int(1, 47) * HOUR + prng.int(0, HOUR - 1)
      : prng.int(isHidden ? HIDDEN_USAGE_MIN_AGE_DAYS * DAY + HOUR : 3 * DAY + HOUR, 730 * DAY);
    const createdMs = now - ageMs;
    const createdAt = armTimestamp(createdMs, prng.int(0, 9999));
    const createdByType: CreatedByType = prng.weighted([
      ["User", 60],
      ["Application", 35],
      ["ManagedIdentity", 5],
    ] as const);
    const createdBy = createdByType === "User" ? prng.pick(USER_PRINCIPALS) : prng.uuid();

    const associationCount = isUnused || isHidden ? 0 : (guarantees.associationCount.get(index) ?? drawAssociationCount(prng));
    const federatedCredentialCount = isHidden
      ? 0
      : (guarantees.ficCount.get(index) ?? (isUnused ? (prng.chance(0.15) ? prng.int(1, 4) : 0) : prng.chance(0.05) ? prng.int(1, 3) : 0));

    const record: IdentityRecord = {
      tenantId,
      id,
      name,
      subscriptionId: subscription.subscriptionId,
      resourceGroup: sharedLowerCase(lowerGroup, resourceGroupName),
      resourceGroupName,
      location,
      principalId,
      clientId,
      tags,
      createdAt,
      createdBy,
      createdByType,
      associationCount,
      federatedCredentialCount,
      roleAssignments: EMPTY_LIST,
      exempt,
      hiddenUsage,
      index,
      subscription,
      generatedAssociations: associationCount,
      extraAssociations: EMPTY_LIST,
      argTagsNull,
      deleted: false,
    };
    identities[index] = record;
    identityByKey.set(identityKey(subscription.subscriptionId, resourceGroupName, name), record);
  }

  const roleAssignments = generateRoleAssignments(
    { prng, tenantId, definitions: new Map(roleDefinitions.map((d) => [d.roleName, d])), subscriptions, managementGroups, now },
    identities,
    order.slice(0, unusedCount),
    order.slice(unusedCount + hiddenCount),
  );
  const kubeletClusters = placeKubeletClusters(prng, identities, order.slice(unusedCount, unusedCount + hiddenCount));

  return {
    index: tenantIndex,
    tenantId,
    seedNumber,
    token,
    subscriptions,
    subscriptionByKey: new Map(subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s])),
    managementGroups,
    allIdentities: identities,
    identities: [...identities],
    identityByKey,
    roleDefinitions,
    roleAssignments,
    now,
    kubeletClusters,
  };
}

/**
 * Gives every hidden-`kubelet` identity an AKS cluster whose control plane is a busy used identity (100
 * associations or more when there is one): the cluster becomes an association of the control plane, so the
 * API lists it there, while only its `properties.identityProfile` names the kubelet identity. A kubelet identity
 * without any used identity to pair with loses the kind (tiny tenants with everything unused).
 */
function placeKubeletClusters(prng: Prng, identities: IdentityRecord[], hiddenOrder: number[]): Map<AssociatedResource, KubeletCluster> {
  const clusters = new Map<AssociatedResource, KubeletCluster>();
  const kubelets = hiddenOrder.map((i) => identities[i] as IdentityRecord).filter((i) => i.hiddenUsage.includes("kubelet"));
  if (kubelets.length === 0) return clusters;
  let hosts = identities.filter((i) => i.associationCount >= 100);
  if (hosts.length === 0) hosts = identities.filter((i) => i.associationCount > 0);
  for (const kubelet of kubelets) {
    if (hosts.length === 0) {
      const rest = kubelet.hiddenUsage.filter((k) => k !== "kubelet");
      kubelet.hiddenUsage = rest.length > 0 ? rest : ["previewType"];
      continue;
    }
    const controlPlane = prng.pick(hosts);
    const name = join("aks-", prng.pick(WORKLOADS), "-", kubelet.index.toString(36), "-k");
    const resource = associatedResource(controlPlane.subscription, controlPlane.resourceGroupName, "Microsoft.ContainerService/managedClusters", name);
    controlPlane.extraAssociations = [...controlPlane.extraAssociations, resource];
    controlPlane.associationCount++;
    clusters.set(resource, { resource, controlPlane, kubelet, location: controlPlane.location });
  }
  return clusters;
}
