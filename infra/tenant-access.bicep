// Tenant-wide READ access for the audit, deployed separately by a tenant admin (Owner of the management
// group) after `azd up`:
//
//   az deployment mg create --name uami-audit-tenant-access \
//     --management-group-id <tenant-id = the Tenant Root Group, or an audited management group> \
//     --location <any region, for the deployment record> \
//     --template-file infra/tenant-access.bicep \
//     --parameters principalId=$(azd env get-value SERVICE_API_IDENTITY_PRINCIPAL_ID)
//
// This is a security tool with a tenant-wide reach, so it gets the least privilege that lets it decide
// correctly. The evidence that keeps a "0" from the preview listAssociatedResources API from being taken as
// "unused" is the Resource Graph reference sweep: every resource whose identity bag or `properties` names an
// identity (customer-managed keys, Key Vault references, AKS kubelet identities, the next service's field).
// Resource Graph only returns the rows of resource types the caller may read, so the sweep needs `*/read`:
// a narrower list of types would silently hide their references, and identities in use would be reported
// as delete candidates (the one mistake the audit must not make). `*/read` is not enough on its own:
// listAssociatedResources is a POST, authorised as an action. What the role still refuses: every write,
// delete and role assignment, every data action (blobs, secrets, keys), list-keys style actions, and
// Log Analytics query reads (log data), which `*/read` would otherwise include; the one table the audit
// queries, managed-identity sign-ins, is granted on its one workspace below (signInWorkspaceResourceId).
//
// To audit only some management groups, deploy once per group (the role names carry the group's name, and
// custom role names are unique per tenant).
targetScope = 'managementGroup'

@description('Object (principal) id of the function app\'s user-assigned identity: `azd env get-value SERVICE_API_IDENTITY_PRINCIPAL_ID`.')
param principalId string

@description('Resource id of the Log Analytics workspace receiving Entra managed-identity sign-in logs (the app\'s UAMI_SIGNIN_WORKSPACE_ID is its Workspace ID). It must be under this management group. Empty: no sign-in access.')
param signInWorkspaceResourceId string = ''

// What the audit reads (docs/deploy.md, "3. Grant tenant access", has a line for each operation it covers).
var auditActions = [
  // Resource Graph (identities, the reference sweep over every resource type, role assignments and definitions,
  // policy assignments, subscription names), the identity GET, federated credentials, ARM's resource list with
  // createdTime, subscriptions and management groups: all reads.
  '*/read'
  // POST .../listAssociatedResources: which resources use the identity (an action, not a read).
  'Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action'
]

// Log data is not the audit's business except for one table, granted on one workspace (below).
var auditNotActions = [
  'Microsoft.OperationalInsights/workspaces/query/read'
  'Microsoft.OperationalInsights/workspaces/query/*/read'
]

// Table-level read of the managed-identity sign-in table (Log Analytics' table-level RBAC: the workspace, the
// query API, and the one table).
var signInActions = [
  'Microsoft.OperationalInsights/workspaces/read'
  'Microsoft.OperationalInsights/workspaces/query/read'
  'Microsoft.OperationalInsights/workspaces/query/AADManagedIdentitySignInLogs/read'
]
// /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{name}. A placeholder
// when unset: ARM may evaluate a skipped module's scope, and an empty id has no segments to read.
var signInWorkspaceParts = split(empty(signInWorkspaceResourceId) ? '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/none/providers/Microsoft.OperationalInsights/workspaces/none' : signInWorkspaceResourceId, '/')

resource auditReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(managementGroup().id, 'uami-audit-reader')
  properties: {
    roleName: 'UAMI audit reader (${managementGroup().name})'
    description: 'uami-audit: reads resources (to find every reference to a user-assigned identity), identities, their associated resources, federated credentials and role assignments to find unused identities. Read-only; no log data.'
    type: 'CustomRole'
    permissions: [
      {
        actions: auditActions
        notActions: auditNotActions
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [
      managementGroup().id
    ]
  }
}

resource auditReaderAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, principalId, auditReader.id)
  properties: {
    roleDefinitionId: auditReader.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'uami-audit function app identity: read-only audit of user-assigned managed identities.'
  }
}

resource signInReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (!empty(signInWorkspaceResourceId)) {
  name: guid(managementGroup().id, 'uami-audit-signin-reader')
  properties: {
    roleName: 'UAMI audit sign-in reader (${managementGroup().name})'
    description: 'uami-audit: queries the AADManagedIdentitySignInLogs table of one Log Analytics workspace (identities that signed in are active, not unused). No other table.'
    type: 'CustomRole'
    permissions: [
      {
        actions: signInActions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [
      managementGroup().id
    ]
  }
}

module signInReaderAssignment 'app/signInReader.bicep' = if (!empty(signInWorkspaceResourceId)) {
  name: 'uami-audit-signin-reader'
  scope: resourceGroup(signInWorkspaceParts[2], signInWorkspaceParts[4])
  params: {
    workspaceName: last(signInWorkspaceParts)
    roleDefinitionId: signInReader.id
    principalId: principalId
  }
}

output roleDefinitionId string = auditReader.id
output roleName string = auditReader.properties.roleName
output roleAssignmentId string = auditReaderAssignment.id
output signInRoleAssignmentId string = empty(signInWorkspaceResourceId) ? '' : signInReaderAssignment.outputs.roleAssignmentId
output signInRoleDefinitionId string = empty(signInWorkspaceResourceId) ? '' : signInReader.id
