// The Azure Communication Services resource whose Identity API issues the user access tokens.
// The app reaches it by endpoint with its managed identity (ACS_ENDPOINT); its access keys exist,
// as they do on every ACS resource, but nothing here reads them.

@description('Resource name; also the first label of its endpoint host name, so globally unique.')
param name string

param tags object

@description('Where ACS keeps data at rest, e.g. United States, Europe, UK, Australia, Japan.')
param dataLocation string

resource communication 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: name
  // ACS resources are global; dataLocation, not location, decides where data lives.
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

output name string = communication.name
output endpoint string = 'https://${communication.properties.hostName}'
