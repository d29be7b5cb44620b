/** Shapes of what Azure Resource Manager returns, as this project uses them (the contract: test/fixtures/, origins in its README). */

/** One item of `listAssociatedResources` (swagger `AzureResource`). `type` comes back lower-cased. */
export interface AssociatedResource {
  id: string;
  name: string;
  type: string;
  resourceGroup: string;
  subscriptionId: string;
  subscriptionDisplayName: string;
  /** Who said so: absent (or `listAssociatedResources`) for the API's items; `resourceGraph` for a reference the run's sweep found (fast mode). */
  source?: "listAssociatedResources" | "resourceGraph";
}

/** One page of `listAssociatedResources`, normalised: `totalCount` is a number even when Azure sent "4". */
export interface AssociatedResourcesPage {
  totalCount: number;
  value: AssociatedResource[];
  /** The skiptoken taken out of Azure's `nextLink`, decoded once; absent on the last page. */
  nextSkipToken?: string;
}

/**
 * The operation's query. The audit sends `top` only (and the paging loop `skipToken`); `filter`, `orderby` and
 * `skip` stay so the client covers the swagger's whole query contract (test/arm/contract.test.ts checks it).
 */
export interface AssociatedResourcesQuery {
  filter?: string;
  orderby?: string;
  /** 0 returns only `totalCount` (documented behaviour, although the swagger says minimum 1). */
  top?: number;
  skip?: number;
  skipToken?: string;
}

/** A user-assigned identity as Resource Graph lists it (the inventory). */
export interface IdentityInventoryItem {
  /** The ARM id exactly as Azure returned it (casing varies: `resourcegroups` vs `resourceGroups`). */
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  tenantId: string;
  principalId: string;
  clientId: string;
  tags: Record<string, string>;
}

/** `GET .../userAssignedIdentities/{name}` (api-version 2023-01-31), normalised. */
export interface IdentityDetails {
  id: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  clientId: string;
  principalId: string;
  tenantId: string;
  /** `systemData.createdAt`; absent when ARM sent no systemData. */
  createdAt?: string;
  createdBy?: string;
}

export interface FederatedIdentityCredential {
  id: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

/** A role assignment from Resource Graph's `authorizationresources`, joined with its role definition. */
export interface RoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  /** Display name of the role (e.g. "Owner"); the definition id's last segment when unknown. */
  roleName: string;
  /** Scope as ARM writes it: "/", "/providers/Microsoft.Management/managementGroups/x", "/subscriptions/x", ... */
  scope: string;
  /** True when the role definition grants `*` in its actions. */
  wildcardActions: boolean;
}

/** What a run covers. Both empty: the whole tenant. */
export interface AuditScope {
  subscriptions: string[];
  managementGroups: string[];
}
