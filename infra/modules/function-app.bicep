// The Function App on a Flex Consumption (FC1) plan: Node 22, system-assigned managed identity,
// HTTPS only, TLS 1.2, no FTP and no publishing passwords, identity-based host storage, platform
// CORS, and App Service Authentication (Easy Auth) switched by a parameter.

param name string
param planName string
param location string
param tags object

@description('Storage account for AzureWebJobsStorage and the deployment container.')
param storageAccountName string

@description('Blob container in that account that holds the deployed package.')
param deploymentContainerName string

param applicationInsightsName string

@description('The app\'s own settings (main.bicep builds them from SettingsSchema in src/config.ts).')
param appSettings object

@description('Upper bound of instances Flex Consumption may scale out to.')
param maximumInstanceCount int

@description('Memory of each instance, in MB.')
param instanceMemoryMB int

@description('CORS_ALLOWED_ORIGINS: comma-separated exact origins, \'*\' for any, empty for none.')
param corsAllowedOrigins string

@description('Turn on App Service Authentication with the Microsoft Entra ID provider.')
param enableEasyAuth bool

@description('Application (client) ID of the Entra app registration Easy Auth signs callers in for.')
param easyAuthClientId string

@secure()
@description('Optional client secret of that registration; only the browser sign-in flow needs it.')
param easyAuthClientSecret string

@description('Token audiences Easy Auth accepts; empty means the client ID and api://<client ID>.')
param easyAuthAllowedAudiences array

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// On Flex Consumption the Functions host's own CORS middleware answers every preflight from the
// site's CORS setting before the app sees it (azure-functions-host: JobHostCorsMiddleware,
// CorsOptionsSetup), so the origins the app allows must be the site's. Same list and rules as
// CORS_ALLOWED_ORIGINS in src/config.ts: exact origins, trimmed, a trailing slash dropped.
var corsEntries = filter(map(split(corsAllowedOrigins, ','), entry => trim(entry)), entry => !empty(entry))
var corsOrigins = corsAllowedOrigins == '*' ? [
  '*'
] : map(corsEntries, entry => endsWith(entry, '/') ? take(entry, max(length(entry) - 1, 0)) : entry)

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
    // Flex Consumption runs on Linux only.
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the app to deploy the `api` service of azure.yaml to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      cors: {
        allowedOrigins: corsOrigins
        // Easy Auth's session cookie only travels on credentialed requests; browsers refuse
        // credentials with a wildcard origin, so '*' never gets them.
        supportCredentials: enableEasyAuth && corsAllowedOrigins != '*'
      }
    }
    // On Flex Consumption the runtime and the deployment source live here, not in app settings
    // (FUNCTIONS_WORKER_RUNTIME, WEBSITE_RUN_FROM_PACKAGE and friends are not used on this plan).
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        // Node 20 reached end of life on 2026-04-30; the suite runs on this major too.
        version: '22'
      }
    }
  }
}

// What the Functions host and the platform read; the app's own settings come from main.bicep.
var platformSettings = {
  // Host storage through the managed identity: an account name, no connection string, no key.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  // The component refuses local auth, so telemetry goes out with the app's Entra token.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  // V8 sizes its heap for the memory it sees, which need not be the instance's: capped at a
  // quarter of the instance, the worker collects garbage long before the instance runs out
  // (the app's live set is ~15 MB; bench/README.md has the measurements). Node 22's larger
  // default young generation added ~20 MB of RSS for no gain: with 8 MB semi-spaces a 100k-request
  // soak ends at 132 MB instead of 152, at less CPU per request (docs/performance.md).
  NODE_OPTIONS: '--max-old-space-size=${instanceMemoryMB / 4} --max-semi-space-size=8'
}

var useClientSecret = enableEasyAuth && !empty(easyAuthClientSecret)

// Easy Auth reads the registration's secret from an app setting; the name is the portal's default.
// Written whenever Easy Auth is on (empty without a secret, when the registration does not name
// it), so that which settings exist never hangs on a secure value: the ARM engine can then predict
// the whole set (tests/infra), and a secret added later needs no new setting.
var easyAuthSettings = enableEasyAuth ? {
  MICROSOFT_PROVIDER_AUTHENTICATION_SECRET: easyAuthClientSecret
} : {}

// The only place app settings are written: this resource replaces the whole set on every
// deployment. tests/infra/template.test.ts checks the merged set in the compiled deployment.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, platformSettings, easyAuthSettings)
}

var allowedAudiences = empty(easyAuthAllowedAudiences) ? [
  easyAuthClientId
  'api://${easyAuthClientId}'
] : easyAuthAllowedAudiences

var entraIdRegistration = union({
  clientId: easyAuthClientId
  // v2.0 issuer of this subscription's tenant: only its accounts sign in.
  openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
}, useClientSecret ? { clientSecretSettingName: 'MICROSOFT_PROVIDER_AUTHENTICATION_SECRET' } : {})

// Always deployed, so that switching enableEasyAuth back to false really turns Easy Auth off
// (a conditional resource would leave the last configuration in place).
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: enableEasyAuth ? {
    platform: {
      enabled: true
    }
    globalValidation: {
      // Easy Auth signs callers in and hands the app their principal, but lets anonymous
      // requests through: the app itself answers them on the token routes with a 401
      // application/problem+json (its error contract), and /api/health must stay reachable
      // for probes without a sign-in. Return401 or RedirectToLoginPage would do neither.
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: entraIdRegistration
        validation: {
          allowedAudiences: allowedAudiences
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true
      }
    }
  } : {
    platform: {
      enabled: false
    }
  }
  dependsOn: [
    settings
  ]
}

// No publishing with user name and password: azd deploys with the signed-in user's Entra token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
  dependsOn: [
    authSettings
  ]
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
  dependsOn: [
    ftpPublishing
  ]
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output principalId string = functionApp.identity.principalId
