/**
 * What tests compare the audit's findings with: the simulated tenants as they are now, mutations
 * included. Lookups by id are case-insensitive and accept either casing of `resourceGroups`.
 * Deleted identities disappear from `identities` and from `identity(id)`; `deletedIdentities()` lists them.
 */
import type { AssociatedResource } from "../src/arm/types.js";
import { federatedCredentialsOf } from "./federatedCredentials.js";
import type {
  FederatedCredentialTruth,
  IdentityTruth,
  ManagementGroupTruth,
  RoleAssignmentTruth,
  RoleDefinitionTruth,
  SubscriptionTruth,
  TenantModel,
} from "./model.js";
import type { SimulatedTenants } from "./tenantState.js";

export type {
  FederatedCredentialTruth,
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
  /** Live identities with zero associated resources (federated credentials not considered). */
  unusedIdentities(): IdentityTruth[];
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
  };
}
