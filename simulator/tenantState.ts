/**
 * The live state of every simulated tenant: lookups by id, subscription and token, and the mutations
 * tests apply between phases (delete an identity, add or remove associations). Every mutation bumps
 * `version`, which invalidates cached Resource Graph results.
 */
import type { AssociatedResource } from "../src/arm/types.js";
import { associationsOf, completeAssociation } from "./associatedResources.js";
import { makeToken, type TokenOwner } from "./auth.js";
import type { IdentityRecord, SubscriptionRecord, TenantModel } from "./model.js";
import { keyOfId, subscriptionOfKey } from "./model.js";

export class SimulatedTenants {
  readonly tenants: readonly TenantModel[];
  /** Bumped by every mutation. */
  version = 0;
  private readonly tenantById = new Map<string, TenantModel>();
  private readonly subscriptionOwner = new Map<string, { tenant: TenantModel; subscription: SubscriptionRecord }>();
  private readonly tokens = new Map<string, TokenOwner>();
  private readonly extraUsers = new Map<string, number>();
  private addedSerial = 0;

  constructor(
    tenants: readonly TenantModel[],
    private readonly seed: string,
  ) {
    this.tenants = tenants;
    for (const tenant of tenants) {
      this.tenantById.set(tenant.tenantId.toLowerCase(), tenant);
      for (const subscription of tenant.subscriptions) this.subscriptionOwner.set(subscription.subscriptionId.toLowerCase(), { tenant, subscription });
      const owner = makeToken(seed, tenant.tenantId, 0, tenant.now);
      this.tokens.set(owner.token, owner);
    }
  }

  get tokenRegistry(): ReadonlyMap<string, TokenOwner> {
    return this.tokens;
  }

  tenant(tenantId: string): TenantModel | undefined {
    return this.tenantById.get(tenantId.toLowerCase());
  }

  requireTenant(tenantId: string): TenantModel {
    const tenant = this.tenant(tenantId);
    if (!tenant) throw new RangeError(`Unknown tenant '${tenantId}'; the simulator has ${this.tenants.map((t) => t.tenantId).join(", ")}`);
    return tenant;
  }

  subscription(subscriptionId: string): { tenant: TenantModel; subscription: SubscriptionRecord } | undefined {
    return this.subscriptionOwner.get(subscriptionId.toLowerCase());
  }

  /** A further token for a tenant (another "user": own ARG quota, shared listAssociatedResources budget). */
  issueToken(tenantId: string): string {
    const tenant = this.requireTenant(tenantId);
    const user = (this.extraUsers.get(tenant.tenantId) ?? 0) + 1;
    this.extraUsers.set(tenant.tenantId, user);
    const owner = makeToken(this.seed, tenant.tenantId, user, tenant.now);
    this.tokens.set(owner.token, owner);
    return owner.token;
  }

  /** Finds an identity by ARM id, any casing; deleted identities are returned with `deleted` set. */
  findIdentity(id: string): { tenant: TenantModel; identity: IdentityRecord } | undefined {
    const key = keyOfId(id);
    const owner = key ? this.subscriptionOwner.get(subscriptionOfKey(key)) : undefined;
    const identity = owner?.tenant.identityByKey.get(key);
    return owner && identity ? { tenant: owner.tenant, identity } : undefined;
  }

  requireLiveIdentity(id: string): { tenant: TenantModel; identity: IdentityRecord } {
    const found = this.findIdentity(id);
    if (!found || found.identity.deleted) throw new RangeError(`No identity '${id}' in the simulator`);
    return found;
  }

  deleteIdentity(id: string): void {
    const { tenant, identity } = this.requireLiveIdentity(id);
    identity.deleted = true;
    const position = tenant.identities.indexOf(identity);
    if (position >= 0) tenant.identities.splice(position, 1);
    this.version++;
  }

  addAssociation(id: string, partial?: Partial<AssociatedResource>): AssociatedResource {
    const { tenant, identity } = this.requireLiveIdentity(id);
    const resource = completeAssociation(tenant, identity, partial, ++this.addedSerial);
    identity.extraAssociations = [...identity.extraAssociations, resource];
    identity.associationCount++;
    this.version++;
    return resource;
  }

  /** Removes the last `count` associations (added ones first), all when `count` is omitted. */
  removeAssociations(id: string, count?: number): void {
    const { tenant, identity } = this.requireLiveIdentity(id);
    if (count !== undefined && (!Number.isInteger(count) || count < 0)) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    let remaining = count ?? identity.associationCount;
    const fromExtra = Math.min(remaining, identity.extraAssociations.length);
    const kept = identity.extraAssociations.length - fromExtra;
    // A removed AKS cluster takes its kubelet identity's hidden use with it (the cluster is gone).
    for (const resource of identity.extraAssociations.slice(kept)) {
      const cluster = tenant.kubeletClusters.get(resource);
      if (!cluster) continue;
      tenant.kubeletClusters.delete(resource);
      const stillHosted = [...tenant.kubeletClusters.values()].some((c) => c.kubelet === cluster.kubelet);
      if (!stillHosted) cluster.kubelet.hiddenUsage = cluster.kubelet.hiddenUsage.filter((k) => k !== "kubelet");
    }
    identity.extraAssociations = identity.extraAssociations.slice(0, kept);
    remaining -= fromExtra;
    identity.generatedAssociations = Math.max(0, identity.generatedAssociations - remaining);
    identity.associationCount = identity.generatedAssociations + identity.extraAssociations.length;
    this.version++;
  }

  associationsOf(id: string): AssociatedResource[] {
    const found = this.findIdentity(id);
    if (!found || found.identity.deleted) return [];
    return associationsOf(found.tenant, found.identity);
  }
}
