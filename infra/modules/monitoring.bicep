// Log Analytics workspace and the workspace-based Application Insights component the Functions
// host sends its request records, traces and the app's own per-request log lines to.

@description('Region of the workspace and the component.')
param location string

@description('Tags for every resource in this module.')
param tags object

param logAnalyticsName string
param applicationInsightsName string

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Telemetry is accepted only with an Entra token: the Function App's identity holds
    // Monitoring Metrics Publisher (roles.bicep) and sends APPLICATIONINSIGHTS_AUTHENTICATION_STRING,
    // so the instrumentation key in the connection string alone cannot be used to write here.
    DisableLocalAuth: true
  }
}

output applicationInsightsName string = applicationInsights.name
output logAnalyticsName string = logAnalytics.name
