// Optional alert mail: Email Communication Service with an Azure-managed domain
// (DoNotReply@<guid>.azurecomm.net, no DNS to verify), linked to a Communication Services resource that the
// app calls with its managed identity (UAMI_MAIL_TRANSPORT=acs). Access keys on the Communication Services
// resource are disabled, so the identity is the only way in.
param emailServiceName string
param communicationServiceName string
param tags object = {}
param principalId string

@description('Where Communication Services keeps data at rest, e.g. "United States", "Europe", "UK". Cannot change after creation.')
param dataLocation string = 'United States'

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global' // the only location these resource types accept
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain' // the only name allowed for an Azure-managed domain
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled' // no tracking pixels or rewritten links in security alerts
  }
}

// 2025-05-01 is the first stable api-version with disableLocalAuth.
resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      managedDomain.id
    ]
    disableLocalAuth: true
  }
}

// Communication Services has no send-only built-in role for Entra-authenticated email. "Communication and
// Email Service Owner" is the built-in role documented for it; the documented custom alternative
// (CommunicationServices/Read + /Write + EmailServices/write) is no narrower in effect, since it can also
// write the resource. The assignment is scoped to this one resource, nothing above it.
var communicationAndEmailServiceOwner = '09976791-48a7-449e-bb21-39d1a415f350'

resource sendMail 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, principalId, communicationAndEmailServiceOwner)
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', communicationAndEmailServiceOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output endpoint string = 'https://${communicationService.properties.hostName}'
output senderAddress string = 'DoNotReply@${managedDomain.properties.mailFromSenderDomain}'
output communicationServiceName string = communicationService.name
