// uami-audit: the function app that audits a tenant for unused user-assigned managed identities.
// Deployed by `azd up` (subscription scope, creates the resource group). The tenant-wide read access the
// audit needs is NOT granted here: a tenant admin deploys ./tenant-access.bicep afterwards (docs/deploy.md).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used for the resource group name and the unique resource token.')
param environmentName string

@minLength(1)
@description('Region for all resources. It must offer Flex Consumption: az functionapp list-flexconsumption-locations -o table')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

param resourceGroupName string = ''
param apiServiceName string = ''
param apiUserAssignedIdentityName string = ''
param appServicePlanName string = ''
param storageAccountName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''

// ---- Scale (the arithmetic is in docs/deploy.md, "Scale settings") ----

// listAssociatedResources allows 1 request per second per tenant, so the check queue needs about 3
// executions in flight, which one instance gives (host.json: batchSize 2 + newBatchThreshold 1). Target-based
// scaling would size checkIdentity at queue length / batchSize instances; this app-wide cap keeps it to what
// the rate can use: 1-2 instances for checkIdentity, 1 for the HTTP group (per-function scaling keeps it on
// instances of its own), 1 for whichever of startAudit / enumerateRun / reportCompletedRun /
// recordPoisonedCheck runs beside them. Even if every instance served checkIdentity, 4 x 3 = 12 executions
// stay under the 19 slots a worker may reserve ahead (UAMI_MAX_SLOT_WAIT_MS 20 s / 1.05 s).
// Flex Consumption accepts 1 to 1000.
@minValue(1)
@maxValue(1000)
@description('Flex Consumption maximumInstanceCount for the whole app (see docs/deploy.md, "Scale settings").')
param maximumInstanceCount int = 4

// 0: the HTTP group scales from zero like everything else. 1 keeps one instance of the HTTP group running
// (billed as an always-ready instance even when idle): no cold start, and an instance of its own even when
// checkIdentity has reached the cap.
@minValue(0)
@maxValue(2)
@description('Always-ready instances of the HTTP group (billed while idle).')
param httpAlwaysReady int = 0

// ---- The audit's settings (app settings of the same name) ----

@description('UAMI_AUDIT_TENANT_ID. A managed identity can only obtain tokens in its own tenant, so this is the deployment tenant.')
param auditTenantId string = tenant().tenantId

@description('UAMI_AUDIT_SCHEDULE: NCRONTAB (UTC) of the startAudit timer. Empty means the default.')
param auditSchedule string = '0 0 2 * * *'

@description('UAMI_REPORT_SCHEDULE: NCRONTAB (UTC) of the nightlyReport timer. Empty means the default.')
param reportSchedule string = '0 0 6 * * *'

@description('UAMI_AUDIT_SUBSCRIPTIONS: comma-separated subscription ids. Empty = the whole tenant. Not together with auditManagementGroups.')
param auditSubscriptions string = ''

@description('UAMI_AUDIT_MANAGEMENT_GROUPS: comma-separated management group ids. Empty = the whole tenant.')
param auditManagementGroups string = ''

@description('UAMI_RATE_LIMIT_PER_SECOND: listAssociatedResources calls per second for the whole tenant (Azure allows 1).')
param rateLimitPerSecond string = '1'

@description('UAMI_GRACE_PERIOD_DAYS: identities younger than this are "recent", not "unused".')
param gracePeriodDays string = '7'

@description('UAMI_EXEMPT_TAG: tag name that makes an identity "exempt".')
param exemptTag string = 'uami-audit-exempt'

@allowed([
  'fast'
  'exhaustive'
])
@description('UAMI_AUDIT_MODE: "fast" sends listAssociatedResources only for identities the Resource Graph sweep finds unreferenced; "exhaustive" for every identity.')
param auditMode string = 'fast'

// ---- Sign-ins (optional) ----

@description('UAMI_SIGNIN_WORKSPACE_ID: the Workspace ID (GUID) of the Log Analytics workspace receiving Entra managed-identity sign-in logs. Empty: sign-ins are not checked. The read access is granted by tenant-access.bicep (signInWorkspaceResourceId).')
param signInWorkspaceId string = ''

@description('UAMI_SIGNIN_WINDOW_DAYS: days of sign-ins that count.')
param signInWindowDays string = '30'

// ---- Mail ----

@description('Deploy Azure Communication Services Email (Azure-managed domain) for alert mail.')
param deployEmail bool = false

@description('UAMI_MAIL_TO: comma-separated recipients. Mail is sent only when deployEmail is true and this is set.')
param mailTo string = ''

@description('Data location of the Communication Services resources, e.g. "United States", "Europe". Fixed at creation. Empty means the default.')
param emailDataLocation string = 'United States'

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = !empty(apiServiceName) ? apiServiceName : '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentStorageContainerName = toLower('app-package-${take(functionAppName, 32)}-${take(uniqueString(functionAppName, resourceToken), 7)}')

// azd passes an unset environment variable as an empty string; these values contain spaces, so their
// defaults are applied here rather than in main.parameters.json.
var auditScheduleSetting = empty(auditSchedule) ? '0 0 2 * * *' : auditSchedule
var reportScheduleSetting = empty(reportSchedule) ? '0 0 6 * * *' : reportSchedule
var emailDataLocationSetting = empty(emailDataLocation) ? 'United States' : emailDataLocation

// The app refuses to start with a mail transport but no recipient (src/config.ts), so mail is switched on
// only when there is both a sender and someone to send to.
var mailTransport = deployEmail && !empty(mailTo) ? 'acs' : 'none'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module apiIdentity 'app/identity.bicep' = {
  name: 'apiIdentity'
  scope: rg
  params: {
    name: !empty(apiUserAssignedIdentityName) ? apiUserAssignedIdentityName : '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentStorageContainerName
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbacAssignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: apiIdentity.outputs.principalId
  }
}

module email 'app/email.bicep' = if (deployEmail) {
  name: 'email'
  scope: rg
  params: {
    emailServiceName: '${abbrs.communicationEmailServices}${resourceToken}'
    communicationServiceName: '${abbrs.communicationCommunicationServices}${resourceToken}'
    dataLocation: emailDataLocationSetting
    tags: tags
    principalId: apiIdentity.outputs.principalId
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentStorageContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    identityId: apiIdentity.outputs.id
    identityClientId: apiIdentity.outputs.clientId
    maximumInstanceCount: maximumInstanceCount
    httpAlwaysReady: httpAlwaysReady
    instanceMemoryMB: 2048
    appSettings: {
      UAMI_AUDIT_TENANT_ID: auditTenantId
      UAMI_AUDIT_SCHEDULE: auditScheduleSetting
      UAMI_REPORT_SCHEDULE: reportScheduleSetting
      UAMI_AUDIT_SUBSCRIPTIONS: auditSubscriptions
      UAMI_AUDIT_MANAGEMENT_GROUPS: auditManagementGroups
      UAMI_RATE_LIMIT_PER_SECOND: rateLimitPerSecond
      UAMI_GRACE_PERIOD_DAYS: gracePeriodDays
      UAMI_EXEMPT_TAG: exemptTag
      UAMI_AUDIT_MODE: auditMode
      UAMI_SIGNIN_WORKSPACE_ID: signInWorkspaceId
      UAMI_SIGNIN_WINDOW_DAYS: signInWindowDays
      UAMI_MAIL_TRANSPORT: mailTransport
      UAMI_MAIL_FROM: deployEmail ? email.outputs.senderAddress : ''
      UAMI_MAIL_TO: mailTo
      UAMI_ACS_ENDPOINT: deployEmail ? email.outputs.endpoint : ''
    }
  }
  // The host must be able to reach storage when it first starts.
  dependsOn: [
    rbac
  ]
}

// azd writes these to .azure/<env>/.env.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = api.outputs.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_URI string = 'https://${api.outputs.defaultHostName}'
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
// The tenant admin passes this to tenant-access.bicep (principalId).
output SERVICE_API_IDENTITY_PRINCIPAL_ID string = apiIdentity.outputs.principalId
output SERVICE_API_IDENTITY_CLIENT_ID string = apiIdentity.outputs.clientId
output MAIL_SENDER_ADDRESS string = deployEmail ? email.outputs.senderAddress : ''
