// The storage account the Function App needs three times over: the Functions host's own state
// (AzureWebJobsStorage), the Flex Consumption deployment container, and the identity map table
// (one ACS identity per signed-in principal, used in easyauth mode).

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags object

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Table for the principal -> ACS identity map (IDENTITY_MAP_TABLE).')
@minLength(3)
@maxLength(63)
param identityMapTableName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    // Every client (Functions host, deployment, identity map) signs in with the app's managed
    // identity. Shared keys, and SAS tokens signed with them, are refused outright.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'

    // Created here so the first signed-in caller does not pay for it; the app still tries to
    // create it on first use and accepts "already exists".
    resource identityMapTable 'tables' = {
      name: identityMapTableName
    }
  }
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output tableEndpoint string = storage.properties.primaryEndpoints.table
