// Everything acs-token-service needs in Azure, for `azd up`: a resource group holding the
// Function App (Flex Consumption), its storage account, the ACS resource, Application Insights,
// and the role assignments that let the app reach them with its managed identity. No key or
// connection string of ACS or Storage appears in any app setting.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds the resource names.')
param environmentName string

@minLength(1)
@description('Region of every regional resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string

@description('Where ACS keeps its data at rest, e.g. United States, Europe, UK, Australia, Japan.')
param acsDataLocation string = 'United States'

// Easy Auth (App Service Authentication). Off: callers need a function key (AUTH_MODE=key).

@description('Sign callers in with Microsoft Entra ID; the app then runs with AUTH_MODE=easyauth.')
param enableEasyAuth bool = false

@description('Application (client) ID of the Entra app registration Easy Auth signs callers in for.')
param easyAuthClientId string = ''

@secure()
@description('Optional client secret of that registration; only the browser sign-in flow needs it.')
param easyAuthClientSecret string = ''

@description('Token audiences Easy Auth accepts; empty means the client ID and api://<client ID>.')
param easyAuthAllowedAudiences array = []

// The app's settings, with the defaults of SettingsSchema in src/config.ts.

@minLength(3)
@maxLength(63)
@description('IDENTITY_MAP_TABLE: table of the principal -> ACS identity map.')
param identityMapTable string = 'acsidentities'

@description('ALLOWED_SCOPES: comma-separated scopes this deployment may grant.')
param allowedScopes string = 'chat,voip,chat.join,chat.join.limited,voip.join'

@description('DEFAULT_SCOPES: scopes when a request names none (must be allowed).')
param defaultScopes string = 'voip'

@minValue(60)
@maxValue(1440)
@description('DEFAULT_TOKEN_EXPIRY_MINUTES: token lifetime when a request names none.')
param defaultTokenExpiryMinutes int = 60

@minValue(60)
@maxValue(1440)
@description('MAX_TOKEN_EXPIRY_MINUTES: longest lifetime a caller may ask for.')
param maxTokenExpiryMinutes int = 1440

@minValue(100)
@maxValue(120000)
@description('ACS_TIMEOUT_MS: deadline of one ACS call, then 504.')
param acsTimeoutMs int = 10000

@description('Comma-separated exact browser origins allowed to call the API, or * for any; empty for none. Becomes siteConfig.cors; the platform then hands the app CORS_ALLOWED_ORIGINS itself.')
param corsAllowedOrigins string = ''

@minValue(0)
@description('RATE_LIMIT_PER_MINUTE: token requests per signed-in principal per minute, per instance (0 = off).')
param rateLimitPerMinute int = 30

@minValue(1)
@description('RATE_LIMIT_BURST: requests a principal may make at once.')
param rateLimitBurst int = 60

@minValue(0)
@description('RATE_LIMIT_KEY_PER_MINUTE: requests per function key per minute, per instance (0 = off).')
param rateLimitKeyPerMinute int = 1200

@minValue(1)
@description('RATE_LIMIT_KEY_BURST: requests a function key may make at once.')
param rateLimitKeyBurst int = 300

@secure()
@description('TOKEN_CACHE_KEY: 32 random bytes, base64 (openssl rand -base64 32); empty turns the token cache off.')
param tokenCacheKey string = ''

@description('TOKEN_POLICY as an object, e.g. {"roles":{"guest":{"scopes":["voip.join"]}}}; empty for none. Needs Easy Auth.')
param tokenPolicy object = {}

// Flex Consumption sizing.

@allowed([
  512
  2048
  4096
])
@description('Memory of each instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Upper bound of instances the app may scale out to.')
param maximumInstanceCount int = 100

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-${resourceToken}'
// Flex Consumption deploys into this container; the name must be 3-63 lowercase characters.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    identityMapTableName: identityMapTable
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    name: 'acs-${resourceToken}'
    tags: tags
    dataLocation: acsDataLocation
  }
}

// The app's own settings: keys of SettingsSchema in src/config.ts, except the ones the platform
// sets and the key-based alternatives Azure does not use. tests/infra/template.test.ts starts
// the app's config from the compiled deployment's settings, in key and in easyauth mode.
var appSettings = {
  // Managed identity instead of ACS_CONNECTION_STRING.
  ACS_ENDPOINT: communication.outputs.endpoint
  // Managed identity instead of IDENTITY_MAP_CONNECTION.
  IDENTITY_MAP_ENDPOINT: storage.outputs.tableEndpoint
  IDENTITY_MAP_TABLE: identityMapTable
  AUTH_MODE: enableEasyAuth ? 'easyauth' : 'key'
  ALLOWED_SCOPES: allowedScopes
  DEFAULT_SCOPES: defaultScopes
  DEFAULT_TOKEN_EXPIRY_MINUTES: string(defaultTokenExpiryMinutes)
  MAX_TOKEN_EXPIRY_MINUTES: string(maxTokenExpiryMinutes)
  ACS_TIMEOUT_MS: string(acsTimeoutMs)
  // An empty setting means "not set" to the app.
  TOKEN_POLICY: empty(tokenPolicy) ? '' : string(tokenPolicy)
  RATE_LIMIT_PER_MINUTE: string(rateLimitPerMinute)
  RATE_LIMIT_BURST: string(rateLimitBurst)
  RATE_LIMIT_KEY_PER_MINUTE: string(rateLimitKeyPerMinute)
  RATE_LIMIT_KEY_BURST: string(rateLimitKeyBurst)
  // A secure parameter: kept out of deployment history. Empty means the cache is off.
  TOKEN_CACHE_KEY: tokenCacheKey
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: appSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    corsAllowedOrigins: corsAllowedOrigins
    enableEasyAuth: enableEasyAuth
    easyAuthClientId: easyAuthClientId
    easyAuthClientSecret: easyAuthClientSecret
    easyAuthAllowedAudiences: easyAuthAllowedAudiences
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    principalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.name
    communicationServiceName: communication.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// azd writes these to .azure/<environment>/.env.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = subscription().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output SERVICE_API_NAME string = functionApp.outputs.name
output ACS_ENDPOINT string = communication.outputs.endpoint
output ACS_RESOURCE_NAME string = communication.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
