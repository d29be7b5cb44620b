// Tenant-wide READ access for the audit, deployed separately by a tenant admin (Owner of the management
// group) after `azd up`:
//
//   az deployment mg create --name uami-audit-tenant-access \
//     --management-group-id <tenant-id = the Tenant Root Group, or an audited management group> \
//     --location <any region, for the deployment record> \
//     --template-file infra/tenant-access.bicep \
//     --parameters principalId=$(azd env get-value SERVICE_API_IDENTITY_PRINCIPAL_ID)
//
// This is a security tool with a tenant-wide reach, so it gets the least privilege that lets it work: a custom
// role with exactly the operations the audit calls, all of them reads, instead of the built-in Reader.
// Reader ("*/read") would let the identity read every resource's configuration in the tenant, and it would
// still not be enough: listAssociatedResources is a POST, authorised as the action
// Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action, which "*/read" does not
// match. No write, delete, assign or data action is granted; the identity cannot change anything it audits.
//
// To audit only some management groups, deploy once per group (the role name carries the group's name, and
// custom role names are unique per tenant).
targetScope = 'managementGroup'

@description('Object (principal) id of the function app\'s user-assigned identity: `azd env get-value SERVICE_API_IDENTITY_PRINCIPAL_ID`.')
param principalId string

// Every operation the audit performs, and nothing more. Keep in sync with the ARM calls in src/arm/.
var auditActions = [
  // Resource Graph: the identity inventory (`resources`) and role assignments (`authorizationresources`).
  'Microsoft.ResourceGraph/resources/read'
  // GET .../userAssignedIdentities/{name} (createdAt, tags) and the Resource Graph rows for identities.
  'Microsoft.ManagedIdentity/userAssignedIdentities/read'
  // POST .../listAssociatedResources: which resources use the identity (an action, not a read).
  'Microsoft.ManagedIdentity/userAssignedIdentities/listAssociatedResources/action'
  // GET .../federatedIdentityCredentials: an identity with federated credentials may be used from outside Azure.
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read'
  // Which roles each identity holds, and what those roles grant (risk ranking).
  'Microsoft.Authorization/roleAssignments/read'
  'Microsoft.Authorization/roleDefinitions/read'
  // The scope of a run: subscriptions and management groups.
  'Microsoft.Resources/subscriptions/read'
  'Microsoft.Management/managementGroups/read'
]

resource auditReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(managementGroup().id, 'uami-audit-reader')
  properties: {
    roleName: 'UAMI audit reader (${managementGroup().name})'
    description: 'uami-audit: reads user-assigned managed identities, their associated resources, federated credentials and role assignments to find unused identities. Read-only.'
    type: 'CustomRole'
    permissions: [
      {
        actions: auditActions
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

resource auditReaderAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, principalId, auditReader.id)
  properties: {
    roleDefinitionId: auditReader.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'uami-audit function app identity: read-only audit of user-assigned managed identities.'
  }
}

output roleDefinitionId string = auditReader.id
output roleName string = auditReader.properties.roleName
output roleAssignmentId string = auditReaderAssignment.id
