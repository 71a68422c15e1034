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
  // Contributor, on the ACS resource only. ACS has no built-in role with DataActions for its
  // Identity API; an Entra caller of createUser / issueAccessToken / revoke / delete is
  // authorized on the resource itself. Contributor is the role Microsoft's own SDK tests grant
  // the principal whose Entra token runs the identity tests (the recorded "_aad" sessions):
  // Azure/azure-sdk-for-js sdk/communication/test-resources/test-resources.bicep (used by
  // sdk/communication/communication-identity/tests.yml) and sdk/communication/test-resources.json.
  // Those grant it on the resource group; here it is narrowed to the one ACS resource, as
  // sdk/communication/communication-phone-numbers/test-resources.bicep does. "Communication and
  // Email Service Owner" (09976791-48a7-449e-bb21-39d1a415f350) is documented for Email and
  // SMTP; no primary source shows it working for identity operations, so it is not used.
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'
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
  name: guid(communication.id, principalId, roles.contributor)
  scope: communication
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.contributor)
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
