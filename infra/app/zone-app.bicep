@description('One function app of the linkage package (the TTP or the TRE app): Elastic Premium, Linux, .NET 10 isolated worker, its own user-assigned identity.')
param name string
param location string
param tags object
param planId string
param identityId string
@description('Settings of this app, identity-based connections included; merged with the zone\'s AzureWebJobs.<Function>.Disabled settings.')
param appSettings object
@description('infra/app/function-zones.json\'s entry for the zones this app does not run.')
param disabledFunctions object
@description('Host storage account (AzureWebJobsStorage, Durable task hub, content share); only this app\'s identity has roles on it.')
param hostStorageName string
param logAnalyticsId string
param applicationInsightsName string

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

// Elastic Premium keeps the app's files on an Azure Files share of its host account, which takes a key (the only key-based
// setting; the data accounts accept Entra ID only).
var contentSettings = {
  WEBSITE_CONTENTAZUREFILECONNECTIONSTRING: 'DefaultEndpointsProtocol=https;AccountName=${hostStorage.name};EndpointSuffix=${environment().suffixes.storage};AccountKey=${hostStorage.listKeys().keys[0].value}'
  WEBSITE_CONTENTSHARE: toLower(name)
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: planId
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      linuxFxVersion: 'DOTNET-ISOLATED|10.0'
      alwaysOn: false
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
      functionAppScaleLimit: 10
      minimumElasticInstanceCount: 1
      // The scale controller asks the runtime, which reads the triggers with the app's identity (identity-based
      // connections: the controller itself holds no credential for them).
      functionsRuntimeScaleMonitoringEnabled: true
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(appSettings, disabledFunctions, contentSettings)
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: app
  properties: {
    workspaceId: logAnalyticsId
    logs: [{ category: 'FunctionAppLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
