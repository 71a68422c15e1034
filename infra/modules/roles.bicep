// Data-plane access for the Function App's system-assigned identity. Every grant is scoped to the
// one resource that needs it, so the identity can touch nothing else in the subscription.

@description('Object ID of the Function App\'s system-assigned managed identity.')
param principalId string

param storageAccountName string
param communicationServiceName string
param applicationInsightsName string

// Built-in role definition IDs (the same in every tenant).
var roles = {
  // Blobs: the Flex Consumption deployment container and the Functions host's own blobs
  // (keys, leases) behind AzureWebJobsStorage__accountName.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Tables: read and write the identity map. Assigned on the account, not the table, because
  // the app calls createTable (and accepts "already exists") before first use.
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // "Communication and Email Service Owner", 09976791-48a7-449e-bb21-39d1a415f350. ACS defines
  // no built-in role with DataActions for its Identity API: an Entra caller of createUser /
  // issueAccessToken is authorized against the resource's own actions
  // (Microsoft.Communication/CommunicationServices/*), and this is the narrowest built-in role
  // that carries them (the other option is Contributor). It can also manage the resource and
  // read its access keys; a custom role limited to CommunicationServices read and write is the
  // tighter choice where an organisation maintains custom roles.
  communicationAndEmailServiceOwner: '09976791-48a7-449e-bb21-39d1a415f350'
  // Application Insights ingestion with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: principalId
    // A brand-new identity may not have replicated yet; naming its type skips the lookup.
    principalType: 'ServicePrincipal'
  }
}

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource communicationIdentityAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communication.id, principalId, roles.communicationAndEmailServiceOwner)
  scope: communication
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.communicationAndEmailServiceOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
