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

// How callers authenticate (AUTH_MODE). key: a function key; jwt: a bearer token from an OpenID
// Connect provider, validated by the app (OIDC_* below). easyauth (App Service Authentication) is
// refused on this template's plan: see easyAuthEnforcedOnPlan below.

@allowed([
  'key'
  'jwt'
  'easyauth'
])
@description('AUTH_MODE: key (function keys), jwt (bearer tokens from an OpenID Connect provider, e.g. Microsoft Entra ID) or easyauth (refused on Flex Consumption; use jwt with Entra ID).')
param authMode string = 'key'

@maxLength(2048)
@description('OIDC_ISSUER (jwt mode): the issuer exactly as tokens carry it in iss, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0. Also the base of OpenID discovery.')
param oidcIssuer string = ''

@maxLength(4096)
@description('OIDC_AUDIENCE (jwt mode): comma-separated audiences a token\'s aud must name one of, e.g. the API\'s client ID.')
param oidcAudience string = ''

@allowed([
  'RS256'
  'RS384'
  'RS512'
  'PS256'
  'PS384'
  'PS512'
  'ES256'
  'ES384'
  'ES512'
  'EdDSA'
])
@minLength(1)
@description('OIDC_ALGORITHMS (jwt mode): signature algorithms a token may use; none and HMAC are never accepted.')
param oidcAlgorithms array = [
  'RS256'
]

@minLength(1)
@maxLength(256)
@description('OIDC_ROLES_CLAIM (jwt mode): claim holding the caller\'s roles, matched against TOKEN_POLICY (Entra ID: roles).')
param oidcRolesClaim string = 'roles'

@maxLength(2048)
@description('OIDC_JWKS_URI (jwt mode, optional): the signing keys\' address; empty means the jwks_uri of the issuer\'s discovery document.')
param oidcJwksUri string = ''

@minValue(0)
@maxValue(300)
@description('OIDC_CLOCK_SKEW_SECONDS (jwt mode): leeway for exp and nbf.')
param oidcClockSkewSeconds int = 60

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

@description('TOKEN_POLICY as an object, e.g. {"roles":{"guest":{"scopes":["voip.join"]}}}; empty for none. Needs jwt mode (roles come from the token).')
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

// Easy Auth is deployed only on a plan where the platform is documented to enforce it: where the
// module that strips client-sent X-MS-CLIENT-PRINCIPAL* headers runs in front of the app. In
// easyauth mode the app trusts those headers, so on a plan that sets WEBSITE_AUTH_ENABLED without
// enforcing it anyone could name any principal. No primary source shows Flex Consumption (the one
// plan here) enforcing it; its preview documentation said unauthenticated callers were not blocked.
// The sources, with commits and dates: docs/platform-parity.md ("Easy Auth on Flex Consumption").
var easyAuthEnforcedOnPlan = false

var principalMode = authMode != 'key'
var jwtMode = authMode == 'jwt'

// A parameter set the app would refuse at start-up, refused here instead: the deployment stops
// before anything is created, with the same words the app would log.
var refusal = authMode == 'easyauth' && !easyAuthEnforcedOnPlan
  ? 'authMode easyauth: Flex Consumption is not documented to enforce App Service Authentication (Easy Auth), so the X-MS-CLIENT-PRINCIPAL headers the app would trust could come from any caller. Use authMode jwt with Microsoft Entra ID instead: oidcIssuer the v2.0 issuer of tenant ${subscription().tenantId}, oidcAudience the client ID of the API\'s app registration (docs/deploy.md); the sources: docs/platform-parity.md.'
  : jwtMode && !startsWith(oidcIssuer, 'https://')
      ? 'authMode jwt: oidcIssuer must be the provider\'s https:// issuer, exactly as its tokens carry it (see docs/deploy.md).'
      : jwtMode && empty(trim(oidcAudience))
          ? 'authMode jwt: oidcAudience must name the audience (or a comma-separated list) the API\'s tokens carry.'
          : jwtMode && !empty(oidcJwksUri) && !startsWith(oidcJwksUri, 'https://')
              ? 'authMode jwt: oidcJwksUri must be an https:// address, or empty to use the issuer\'s discovery document.'
              : !jwtMode && !empty(oidcIssuer) || !jwtMode && !empty(oidcAudience) || !jwtMode && !empty(oidcJwksUri)
                  ? 'oidcIssuer, oidcAudience and oidcJwksUri are only used when authMode is jwt.'
                  : !principalMode && !empty(tokenPolicy)
                      ? 'tokenPolicy: roles come from bearer tokens; it needs authMode jwt.'
                      : ''
var checkedAuthMode = empty(refusal) ? authMode : fail(refusal)

// The app's own settings: keys of SettingsSchema in src/config.ts, except the ones the platform
// sets and the key-based alternatives Azure does not use. Each mode writes only the settings it
// reads (tests/infra/template.test.ts starts the app's config from each mode's compiled settings).
var commonSettings = {
  // Managed identity instead of ACS_CONNECTION_STRING.
  ACS_ENDPOINT: communication.outputs.endpoint
  AUTH_MODE: checkedAuthMode
  ALLOWED_SCOPES: allowedScopes
  DEFAULT_SCOPES: defaultScopes
  DEFAULT_TOKEN_EXPIRY_MINUTES: string(defaultTokenExpiryMinutes)
  MAX_TOKEN_EXPIRY_MINUTES: string(maxTokenExpiryMinutes)
  ACS_TIMEOUT_MS: string(acsTimeoutMs)
}

// Function keys identify the caller.
var keyModeSettings = {
  RATE_LIMIT_KEY_PER_MINUTE: string(rateLimitKeyPerMinute)
  RATE_LIMIT_KEY_BURST: string(rateLimitKeyBurst)
}

// A principal keeps one ACS identity in the identity map.
var principalModeSettings = {
  // Managed identity instead of IDENTITY_MAP_CONNECTION.
  IDENTITY_MAP_ENDPOINT: storage.outputs.tableEndpoint
  IDENTITY_MAP_TABLE: identityMapTable
  // An empty setting means "not set" to the app.
  TOKEN_POLICY: empty(tokenPolicy) ? '' : string(tokenPolicy)
  RATE_LIMIT_PER_MINUTE: string(rateLimitPerMinute)
  RATE_LIMIT_BURST: string(rateLimitBurst)
  // A secure parameter: kept out of deployment history. Empty means the cache is off.
  TOKEN_CACHE_KEY: tokenCacheKey
}

var jwtModeSettings = {
  OIDC_ISSUER: oidcIssuer
  OIDC_AUDIENCE: oidcAudience
  OIDC_ALGORITHMS: join(oidcAlgorithms, ',')
  OIDC_ROLES_CLAIM: oidcRolesClaim
  // Empty: the jwks_uri of the issuer's discovery document.
  OIDC_JWKS_URI: oidcJwksUri
  OIDC_CLOCK_SKEW_SECONDS: string(oidcClockSkewSeconds)
}

var appSettings = union(
  commonSettings,
  principalMode ? principalModeSettings : keyModeSettings,
  jwtMode ? jwtModeSettings : {}
)

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
