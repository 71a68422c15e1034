// The Function App on a Flex Consumption (FC1) plan: Node 22, system-assigned managed identity,
// HTTPS only, TLS 1.2, no FTP and no publishing passwords, identity-based host storage, platform
// CORS, and App Service Authentication (Easy Auth) kept switched off (see main.bicep).

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
        // Callers send bearer tokens or function keys, never cookies: no credentialed requests.
        supportCredentials: false
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

// The only place app settings are written: this resource replaces the whole set on every
// deployment. tests/infra/template.test.ts checks the merged set in the compiled deployment.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, platformSettings)
}

// Easy Auth stays off: this plan is not documented to enforce it (main.bicep, easyAuthEnforcedOnPlan).
// Always deployed, so that an app an earlier version of this template deployed with Easy Auth on
// gets it switched off (ARM deploys incrementally: leaving it out would keep the old "on").
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
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
