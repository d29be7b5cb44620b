/**
 * The resources behind hidden usage: identities that are used although `listAssociatedResources` does not list
 * them (model.ts `HiddenUsageKind`). Like associations, these resources are regenerated from (tenant seed,
 * identity index) whenever Resource Graph reads them, never stored.
 *
 * Sources for the shapes:
 * - `previewType`: the docs' limit "preview resource types may be missing" (seeds/000_94790adf3cc96801.txt); the
 *   types are ones the "services that support managed identities" page listed as preview (Service Fabric managed
 *   clusters, Machine Learning workspaces). Their `identity.userAssignedIdentities` bag names the identity.
 * - `kubelet`: AKS `ManagedClusterProperties.identityProfile` (azure-rest-api-specs containerservice swagger):
 *   `{"kubeletidentity": {"resourceId", "clientId", "objectId"}}`; the cluster's own bag holds the control plane.
 * - `properties`: storage `Encryption.identity.userAssignedIdentity` (customer-managed keys) and App Service
 *   `SiteProperties.keyVaultReferenceIdentity`, on resources whose identity is system-assigned only.
 * - `policyAssignment`: `PolicyAssignment` with `identity.userAssignedIdentities` (policy swagger), assigned at
 *   a management group: `/providers/Microsoft.Management/managementGroups/{mg}/providers/Microsoft.Authorization/
 *   policyAssignments/{name}`, in Resource Graph's `policyresources` table.
 * - `signInOnly`: nothing names the identity now; only sign-in logs do (simulator/signIns*.ts).
 */
import type { HiddenUsageKind, IdentityRecord, KubeletCluster, TenantModel } from "./model.js";
import { WORKLOADS } from "./names.js";
import { formatUuid, mix32 } from "./prng.js";
import { resourceGraphRow, type TableRow } from "./resourceGraphRow.js";

/** Where a hidden use of an identity can be seen: the resource, its table, and the paths naming the identity. */
export interface HiddenReferenceTruth {
  readonly kind: Exclude<HiddenUsageKind, "signInOnly">;
  /** The referencing resource's id, in the casing Resource Graph returns. */
  readonly resourceId: string;
  /** Provider casing (`Microsoft.ServiceFabric/managedClusters`); Resource Graph lower-cases it. */
  readonly type: string;
  readonly table: "resources" | "policyresources";
  /** Where in the row the identity's id appears, e.g. `properties.identityProfile.kubeletidentity.resourceId`. */
  readonly paths: readonly string[];
}

const PREVIEW_TYPES = [
  { type: "Microsoft.ServiceFabric/managedClusters", prefix: "sfmc", kind: "" },
  { type: "Microsoft.MachineLearningServices/workspaces", prefix: "mlw", kind: "Default" },
] as const;

function guid(h: number): string {
  return formatUuid(mix32(h, 1), mix32(h, 2), mix32(h, 3), mix32(h, 4));
}

function hashOf(tenant: TenantModel, identity: IdentityRecord, salt: number): number {
  return mix32(tenant.seedNumber, identity.index, 0x41dde, salt);
}

function wordOf(h: number): string {
  return WORKLOADS[mix32(h, 17) % WORKLOADS.length] as string;
}

function groupPath(identity: IdentityRecord): string {
  return `/subscriptions/${identity.subscriptionId}/resourceGroups/${identity.resourceGroupName}/providers`;
}

function userAssignedBag(identity: IdentityRecord): Record<string, unknown> {
  return { [identity.id]: { principalId: identity.principalId, clientId: identity.clientId } };
}

/** A resource in the identity's resource group; the caller fills sku, identity and properties. */
function baseRow(tenant: TenantModel, identity: IdentityRecord, id: string, name: string, type: string, kind: string): TableRow {
  return resourceGraphRow({
    id,
    name,
    type: type.toLowerCase(),
    tenantId: tenant.tenantId,
    kind,
    location: identity.location,
    resourceGroup: identity.resourceGroup,
    subscriptionId: identity.subscriptionId,
    tags: {},
  });
}

interface PreviewResource {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly kind: string;
}

function previewResource(tenant: TenantModel, identity: IdentityRecord): PreviewResource {
  const h = hashOf(tenant, identity, 1);
  const preview = PREVIEW_TYPES[h % PREVIEW_TYPES.length] as (typeof PREVIEW_TYPES)[number];
  const name = `${preview.prefix}-${wordOf(h)}-${identity.index.toString(36)}-p`;
  return { id: `${groupPath(identity)}/${preview.type}/${name}`, name, type: preview.type, kind: preview.kind };
}

function previewRow(tenant: TenantModel, identity: IdentityRecord): TableRow {
  const resource = previewResource(tenant, identity);
  const row = baseRow(tenant, identity, resource.id, resource.name, resource.type, resource.kind);
  const h = hashOf(tenant, identity, 1);
  if (resource.type === "Microsoft.MachineLearningServices/workspaces") {
    row.sku = { name: "Basic", tier: "Basic" };
    row.identity = { type: "SystemAssigned,UserAssigned", principalId: guid(h), tenantId: tenant.tenantId, userAssignedIdentities: userAssignedBag(identity) };
    row.properties = {
      provisioningState: "Succeeded",
      friendlyName: resource.name,
      workspaceId: guid(mix32(h, 7)),
      storageAccount: `${groupPath(identity)}/Microsoft.Storage/storageAccounts/stml${identity.index.toString(36)}`,
      // ML names its primary identity in properties too: the bag and the properties both carry the id.
      primaryUserAssignedIdentity: identity.id,
    };
  } else {
    row.sku = { name: "Standard" };
    row.identity = { type: "UserAssigned", userAssignedIdentities: userAssignedBag(identity) };
    row.properties = { provisioningState: "Succeeded", clusterState: "Ready", dnsName: resource.name, fqdn: `${resource.name}.${identity.location}.cloudapp.azure.com` };
  }
  return row;
}

interface PropertiesResource {
  readonly id: string;
  readonly name: string;
  readonly type: "Microsoft.Storage/storageAccounts" | "Microsoft.Web/sites";
  readonly path: string;
}

function propertiesResource(tenant: TenantModel, identity: IdentityRecord): PropertiesResource {
  const h = hashOf(tenant, identity, 3);
  const word = wordOf(h);
  if (h % 2 === 0) {
    const name = `st${word}${identity.index.toString(36)}cmk`.slice(0, 24);
    return { id: `${groupPath(identity)}/Microsoft.Storage/storageAccounts/${name}`, name, type: "Microsoft.Storage/storageAccounts", path: "properties.encryption.identity.userAssignedIdentity" };
  }
  const name = `app-${word}-${identity.index.toString(36)}-kvref`;
  return { id: `${groupPath(identity)}/Microsoft.Web/sites/${name}`, name, type: "Microsoft.Web/sites", path: "properties.keyVaultReferenceIdentity" };
}

function propertiesRow(tenant: TenantModel, identity: IdentityRecord): TableRow {
  const resource = propertiesResource(tenant, identity);
  const h = hashOf(tenant, identity, 3);
  // System-assigned only: the bag does not name the identity, only the properties do.
  const systemAssigned = { type: "SystemAssigned", principalId: guid(h), tenantId: tenant.tenantId };
  if (resource.type === "Microsoft.Storage/storageAccounts") {
    const row = baseRow(tenant, identity, resource.id, resource.name, resource.type, "StorageV2");
    row.sku = { name: "Standard_LRS", tier: "Standard" };
    row.identity = systemAssigned;
    row.properties = {
      provisioningState: "Succeeded",
      minimumTlsVersion: "TLS1_2",
      supportsHttpsTrafficOnly: true,
      encryption: {
        identity: { userAssignedIdentity: identity.id },
        keySource: "Microsoft.Keyvault",
        keyvaultproperties: { keyname: "cmk", keyvaulturi: `https://kv-${wordOf(h)}-${identity.index.toString(36)}.vault.azure.net/`, keyversion: "" },
        services: { blob: { enabled: true, keyType: "Account" }, file: { enabled: true, keyType: "Account" } },
      },
    };
    return row;
  }
  const row = baseRow(tenant, identity, resource.id, resource.name, resource.type, "app,linux");
  row.identity = systemAssigned;
  row.properties = {
    state: "Running",
    defaultHostName: `${resource.name}.azurewebsites.net`,
    httpsOnly: true,
    keyVaultReferenceIdentity: identity.id,
  };
  return row;
}

interface PolicyAssignment {
  readonly id: string;
  readonly name: string;
  readonly managementGroup: string;
}

/** The management groups above a subscription, nearest first (its own group up to the tenant root group). */
export function managementGroupsAbove(tenant: TenantModel, subscriptionId: string): string[] {
  const subscription = tenant.subscriptionByKey.get(subscriptionId.toLowerCase());
  const chain: string[] = [];
  let current = subscription ? tenant.managementGroups.find((g) => g.name === subscription.managementGroup) : undefined;
  while (current) {
    chain.push(current.name);
    const parent = current.parent;
    current = parent ? tenant.managementGroups.find((g) => g.name === parent) : undefined;
  }
  return chain;
}

function policyAssignment(tenant: TenantModel, identity: IdentityRecord): PolicyAssignment {
  const h = hashOf(tenant, identity, 5);
  const above = managementGroupsAbove(tenant, identity.subscriptionId);
  const managementGroup = above[h % Math.max(1, above.length)] ?? tenant.tenantId;
  // Management-group assignment names are limited to 24 characters.
  const name = `dine-${wordOf(h)}-${identity.index.toString(36)}`.slice(0, 24);
  return {
    id: `/providers/Microsoft.Management/managementGroups/${managementGroup}/providers/Microsoft.Authorization/policyAssignments/${name}`,
    name,
    managementGroup,
  };
}

/** A `policyresources` row of a policy assignment that runs as `identity`. */
export function policyAssignmentRow(
  tenant: TenantModel,
  identity: IdentityRecord,
  assignment: { id: string; name: string; location: string; subscriptionId: string; scope: string },
  h: number,
): TableRow {
  return resourceGraphRow({
    id: assignment.id,
    name: assignment.name,
    type: "microsoft.authorization/policyassignments",
    tenantId: tenant.tenantId,
    location: assignment.location,
    subscriptionId: assignment.subscriptionId,
    sku: { name: "A0", tier: "Free" },
    properties: {
      displayName: `Deploy ${wordOf(h)} diagnostic settings`,
      policyDefinitionId: `/providers/Microsoft.Authorization/policySetDefinitions/${guid(h)}`,
      scope: assignment.scope,
      notScopes: [],
      parameters: {},
      enforcementMode: "Default",
      metadata: { assignedBy: "Platform team", createdOn: "2024-03-01T09:00:00.0000000Z" },
    },
    identity: { type: "UserAssigned", userAssignedIdentities: userAssignedBag(identity) },
  });
}

/** `resources` rows that name the identity without the API listing them (previewType, properties). */
export function hiddenResourceRows(tenant: TenantModel, identity: IdentityRecord): TableRow[] {
  const rows: TableRow[] = [];
  for (const kind of identity.hiddenUsage) {
    if (kind === "previewType") rows.push(previewRow(tenant, identity));
    else if (kind === "properties") rows.push(propertiesRow(tenant, identity));
  }
  return rows;
}

/** `policyresources` rows of management-group policy assignments running as the identity; ancestry is the assignment's scope chain. */
export function hiddenPolicyRows(tenant: TenantModel, identity: IdentityRecord): { row: TableRow; managementGroup: string }[] {
  if (!identity.hiddenUsage.includes("policyAssignment")) return [];
  const assignment = policyAssignment(tenant, identity);
  const scope = `/providers/Microsoft.Management/managementGroups/${assignment.managementGroup}`;
  const row = policyAssignmentRow(tenant, identity, { ...assignment, location: identity.location, subscriptionId: "", scope }, hashOf(tenant, identity, 5));
  return [{ row, managementGroup: assignment.managementGroup }];
}

/** `properties` of an AKS cluster whose kubelet runs as a hidden-`kubelet` identity (the real `identityProfile` shape). */
export function kubeletClusterProperties(cluster: KubeletCluster): Record<string, unknown> {
  const { kubelet, resource } = cluster;
  return {
    provisioningState: "Succeeded",
    kubernetesVersion: "1.30.6",
    dnsPrefix: `${resource.name}-dns`,
    nodeResourceGroup: `MC_${cluster.controlPlane.resourceGroupName}_${resource.name}_${cluster.location}`,
    identityProfile: {
      kubeletidentity: { resourceId: kubelet.id, clientId: kubelet.clientId, objectId: kubelet.principalId },
    },
  };
}

/** Every place that shows a hidden use of the identity (none for `signInOnly`, whose evidence is sign-in logs). */
export function hiddenReferencesOf(tenant: TenantModel, identity: IdentityRecord): HiddenReferenceTruth[] {
  const references: HiddenReferenceTruth[] = [];
  for (const kind of identity.hiddenUsage) {
    switch (kind) {
      case "previewType": {
        const resource = previewResource(tenant, identity);
        const paths = ["identity.userAssignedIdentities"];
        if (resource.type === "Microsoft.MachineLearningServices/workspaces") paths.push("properties.primaryUserAssignedIdentity");
        references.push({ kind, resourceId: resource.id, type: resource.type, table: "resources", paths });
        break;
      }
      case "properties": {
        const resource = propertiesResource(tenant, identity);
        references.push({ kind, resourceId: resource.id, type: resource.type, table: "resources", paths: [resource.path] });
        break;
      }
      case "kubelet":
        for (const cluster of tenant.kubeletClusters.values()) {
          if (cluster.kubelet !== identity) continue;
          references.push({
            kind,
            resourceId: cluster.resource.id,
            type: "Microsoft.ContainerService/managedClusters",
            table: "resources",
            paths: ["properties.identityProfile.kubeletidentity.resourceId"],
          });
        }
        break;
      case "policyAssignment":
        references.push({
          kind,
          resourceId: policyAssignment(tenant, identity).id,
          type: "Microsoft.Authorization/policyAssignments",
          table: "policyresources",
          paths: ["identity.userAssignedIdentities"],
        });
        break;
      case "signInOnly":
        break;
    }
  }
  return references;
}
