// The function app's own identity. It reaches storage, Application Insights and (optionally) email with it,
// and a tenant admin grants it the audit's read access separately (../tenant-access.bicep).
param name string
param location string = resourceGroup().location
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
