/**
 * What tests compare the audit's findings with: the simulated tenants as they are now, mutations
 * included. Lookups by id are case-insensitive and accept either casing of `resourceGroups`.
 * Deleted identities disappear from `identities` and from `identity(id)`; `deletedIdentities()` lists them.
 *
 * "Used" (`isUsed`) is decided here once: an identity is used when listAssociatedResources lists at least one
 * resource for it, when it has hidden usage (`hiddenUsage`, see hiddenUsage.ts), or when it has a federated
 * identity credential (GitHub Actions, AKS workload identity... use it from outside Azure).
 */
import type { AssociatedResource } from "../src/arm/types.js";
import { federatedCredentialsOf } from "./federatedCredentials.js";
import { hiddenReferencesOf, type HiddenReferenceTruth } from "./hiddenUsage.js";
import type {
  FederatedCredentialTruth,
  HiddenUsageKind,
  IdentityTruth,
  ManagementGroupTruth,
  RoleAssignmentTruth,
  RoleDefinitionTruth,
  SubscriptionTruth,
  TenantModel,
} from "./model.js";
import type { SimulatedTenants } from "./tenantState.js";

export type { HiddenReferenceTruth } from "./hiddenUsage.js";
export type {
  FederatedCredentialTruth,
  HiddenUsageKind,
  IdentityTruth,
  ManagementGroupTruth,
  RoleAssignmentTruth,
  RoleDefinitionTruth,
  SubscriptionTruth,
} from "./model.js";

export interface TenantTruth {
  readonly tenantId: string;
  /** The bearer token reported by `startSimulator` for this tenant. */
  readonly token: string;
  readonly subscriptions: readonly SubscriptionTruth[];
  /** The tenant root group (named after the tenant id) and its two children. */
  readonly managementGroups: readonly ManagementGroupTruth[];
  /** Live identities in generation order. */
  readonly identities: readonly IdentityTruth[];
  readonly roleDefinitions: readonly RoleDefinitionTruth[];
  /** Every role assignment of the tenant, identities' and people's. */
  readonly roleAssignments: readonly RoleAssignmentTruth[];
  identity(id: string): IdentityTruth | undefined;
  associationsOf(id: string): AssociatedResource[];
  federatedCredentialsOf(id: string): FederatedCredentialTruth[];
  /**
   * Live identities with zero associated resources, i.e. what listAssociatedResources alone calls unused
   * (federated credentials and hidden usage not considered: see `isUsed`).
   */
  unusedIdentities(): IdentityTruth[];
  /** Associations, hidden usage or a federated credential; false for unknown and deleted identities. */
  isUsed(id: string): boolean;
  /** Live identities of this tenant with that kind of hidden usage. */
  hiddenUsageOf(kind: HiddenUsageKind): IdentityTruth[];
  /** The resources showing the identity's hidden usage (none for `signInOnly`); [] for unknown ids. */
  hiddenReferencesOf(id: string): HiddenReferenceTruth[];
}

export interface GroundTruth {
  readonly tenants: readonly TenantTruth[];
  tenant(tenantId: string): TenantTruth | undefined;
  /** A live identity of any tenant by ARM id (any casing); undefined once deleted. */
  identity(id: string): IdentityTruth | undefined;
  /** Associated resources in the order listAssociatedResources serves them without `$orderby`. */
  associationsOf(id: string): AssociatedResource[];
  federatedCredentialsOf(id: string): FederatedCredentialTruth[];
  deletedIdentities(): IdentityTruth[];
  /** Associations, hidden usage or a federated credential; false for unknown and deleted identities. */
  isUsed(id: string): boolean;
  /** Live identities of every tenant with that kind of hidden usage. */
  hiddenUsageOf(kind: HiddenUsageKind): IdentityTruth[];
  /** The resources showing the identity's hidden usage (none for `signInOnly`); [] for unknown or deleted ids. */
  hiddenReferencesOf(id: string): HiddenReferenceTruth[];
}

/** The one definition of "used" the tests compare the audit with. */
export function identityIsUsed(identity: IdentityTruth): boolean {
  return identity.associationCount > 0 || identity.hiddenUsage.length > 0 || identity.federatedCredentialCount > 0;
}

function tenantTruth(state: SimulatedTenants, model: TenantModel): TenantTruth {
  const own = (id: string) => {
    const found = state.findIdentity(id);
    return found && found.tenant === model && !found.identity.deleted ? found.identity : undefined;
  };
  return {
    tenantId: model.tenantId,
    token: model.token,
    subscriptions: model.subscriptions,
    managementGroups: model.managementGroups,
    get identities() {
      return model.identities;
    },
    roleDefinitions: model.roleDefinitions,
    roleAssignments: model.roleAssignments,
    identity: own,
    associationsOf: (id) => (own(id) ? state.associationsOf(id) : []),
    federatedCredentialsOf: (id) => {
      const identity = own(id);
      return identity ? federatedCredentialsOf(model, identity) : [];
    },
    unusedIdentities: () => model.identities.filter((i) => i.associationCount === 0),
    isUsed: (id) => {
      const identity = own(id);
      return identity ? identityIsUsed(identity) : false;
    },
    hiddenUsageOf: (kind) => model.identities.filter((i) => i.hiddenUsage.includes(kind)),
    hiddenReferencesOf: (id) => {
      const identity = own(id);
      return identity ? hiddenReferencesOf(model, identity) : [];
    },
  };
}

export function createGroundTruth(state: SimulatedTenants): GroundTruth {
  const tenants = state.tenants.map((model) => tenantTruth(state, model));
  const live = (id: string) => {
    const found = state.findIdentity(id);
    return found && !found.identity.deleted ? found : undefined;
  };
  return {
    tenants,
    tenant: (tenantId) => tenants.find((t) => t.tenantId.toLowerCase() === tenantId.toLowerCase()),
    identity: (id) => live(id)?.identity,
    associationsOf: (id) => state.associationsOf(id),
    federatedCredentialsOf: (id) => {
      const found = live(id);
      return found ? federatedCredentialsOf(found.tenant, found.identity) : [];
    },
    deletedIdentities: () => state.tenants.flatMap((t) => t.allIdentities.filter((i) => i.deleted)),
    isUsed: (id) => {
      const found = live(id);
      return found ? identityIsUsed(found.identity) : false;
    },
    hiddenUsageOf: (kind) => tenants.flatMap((t) => t.hiddenUsageOf(kind)),
    hiddenReferencesOf: (id) => {
      const found = live(id);
      return found ? hiddenReferencesOf(found.tenant, found.identity) : [];
    },
  };
}
