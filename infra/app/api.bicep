// The function app on a Flex Consumption (FC1) plan, Node 22, running as its user-assigned identity.
// App settings live in one `config/appsettings` resource: Bicep owns every setting, so change them with
// `azd env set` + `azd provision`, not in the portal (the next provision would put them back).
param name string
param planName string
param location string = resourceGroup().location
param tags object = {}
param serviceName string = 'api'

param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param identityId string
param identityClientId string

@description('The audit\'s own settings (UAMI_*), merged under the platform settings below.')
param appSettings object = {}

// The app-wide instance cap: the rate limiter holds at any count, but instances past what one request per
// second can use only wait for slots (main.bicep and docs/deploy.md, "Scale settings").
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 4

@description('Always-ready instances of the HTTP group (per-function scaling puts every HTTP function in it).')
@minValue(0)
param httpAlwaysReady int = 0

@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

// Flex Consumption's always-ready setting names the per-function scale group: `http` is every HTTP function.
var httpAlwaysReadyInstances = [
  {
    name: 'http'
    instanceCount: httpAlwaysReady
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource api 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: httpAlwaysReady > 0 ? httpAlwaysReadyInstances : []
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Settings the platform and the Azure SDKs read. Identity-based storage: no connection string exists.
var platformSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // DefaultAzureCredential picks the user-assigned identity by this client id (there is no system identity).
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Links in alert emails point at this app.
  UAMI_REPORT_BASE_URL: 'https://${api.properties.defaultHostName}'
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: api
  name: 'appsettings'
  properties: union(appSettings, platformSettings)
}

output name string = api.name
output defaultHostName string = api.properties.defaultHostName
