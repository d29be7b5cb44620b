// The audit's read of one table (AADManagedIdentitySignInLogs) of the Log Analytics workspace receiving Entra
// managed-identity sign-in logs: the custom role defined by ../tenant-access.bicep, assigned on that workspace
// only. Deployed by tenant-access.bicep into the workspace's resource group.
param workspaceName string
param roleDefinitionId string
param principalId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource signInRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, roleDefinitionId)
  scope: workspace
  properties: {
    roleDefinitionId: roleDefinitionId
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'uami-audit function app identity: managed-identity sign-ins (AADManagedIdentitySignInLogs) only.'
  }
}

output roleAssignmentId string = signInRead.id
