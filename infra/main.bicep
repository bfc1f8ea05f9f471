// The linkage pipeline in Azure: two function apps from one package, the trusted third party (TTP) and the TRE, kept
// apart by identity (decisions 0003, 0900, 0901; docs/deploy.md). Subscription scope, as azd templates are: the
// deployment creates its resource group, so `azd up` needs nothing made by hand first.
targetScope = 'subscription'

@minLength(1)
@maxLength(20)
@description('azd environment name; part of every resource name.')
param environmentName string

@minLength(1)
@description('Azure region of every resource (UK South for UK LLC).')
param location string

@description('Entra ID authority of the HTTP API, https://login.microsoftonline.com/<tenant id>/v2.0 (docs/deploy.md, app registration).')
param apiAuthority string

@description('Audiences the API accepts: the app registration\'s client id and/or api:// URI, comma-separated.')
param apiAudience string

@description('Study codes accepted in File 1 names, comma-separated (File1__KnownStudies).')
param knownStudies string

@description('The TTP\'s manifest public key (PEM) the processor pins (TtpManifest__PublicKey). Empty on the first deployment: the TTP publishes it on first use; then set it and deploy again (docs/deploy.md).')
param ttpManifestPublicKey string = ''

@description('E-mail of the operators for alerts; empty: no notification.')
param alertEmail string = ''

var abbrs = loadJsonContent('abbreviations.json')
var zones = loadJsonContent('app/function-zones.json')
var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var ttpDatabase = 'linkage-ttp'
var treDatabase = 'linkage-tre'
var kekName = 'linkage-kek'

// Containers the code uses (src/Linkage.Functions/Ttp/TtpStorage.cs, Processor/ProcessorStorage.cs,
// Provisioning/ProjectProvisioner.cs); tests/Linkage.Infra.Tests checks them against the code.
var ttpContainers = [
  'ttp-file1-inbox'
  'ttp-file1-quarantine'
  'ttp-file1-archive'
  'ttp-provider-reports'
  'ttp-outbox-nhse'
  'ttp-registry'
  'ttp-config'
  'ttp-locks'
]
var treContainers = [
  'processor-file2-inbox'
  'processor-file2-quarantine'
  'processor-file2-archive'
  'processor-provider-reports'
  'processor-from-ttp'
  'tre-curated'
  'tre-projects'
]
var poisonQueue = 'webjobs-blobtrigger-poison'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module monitor 'core/monitor.bicep' = {
  name: 'monitor'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${environmentName}-${token}'
    applicationInsightsName: '${abbrs.insightsComponents}${environmentName}-${token}'
    location: location
    tags: tags
  }
}

module ttpIdentity 'core/identity.bicep' = {
  name: 'identity-ttp'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}ttp-${token}'
    location: location
    tags: tags
  }
}

module treIdentity 'core/identity.bicep' = {
  name: 'identity-tre'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}tre-${token}'
    location: location
    tags: tags
  }
}

// The TTP's identifier account: only the TTP identity has a role on it.
module ttpData 'core/storage.bicep' = {
  name: 'storage-ttp-data'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}ttp${token}'
    location: location
    tags: tags
    containers: ttpContainers
    queues: [poisonQueue]
    logAnalyticsId: monitor.outputs.logAnalyticsId
  }
}

// The TRE's data account, with the processor's inbox from the TTP.
module treData 'core/storage.bicep' = {
  name: 'storage-tre-data'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}tre${token}'
    location: location
    tags: tags
    containers: treContainers
    queues: [poisonQueue]
    logAnalyticsId: monitor.outputs.logAnalyticsId
  }
}

// Host accounts (AzureWebJobsStorage: blob receipts, timer locks, the Durable task hub; the content share).
module ttpHost 'core/storage.bicep' = {
  name: 'storage-ttp-host'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}ttph${token}'
    location: location
    tags: tags
    allowSharedKeyAccess: true
    logAnalyticsId: monitor.outputs.logAnalyticsId
  }
}

module treHost 'core/storage.bicep' = {
  name: 'storage-tre-host'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}treh${token}'
    location: location
    tags: tags
    allowSharedKeyAccess: true
    logAnalyticsId: monitor.outputs.logAnalyticsId
  }
}

module ttpVault 'core/keyvault.bicep' = {
  name: 'keyvault-ttp'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}ttp-${token}'
    location: location
    tags: tags
    enablePurgeProtection: true
    kekName: kekName
    logAnalyticsId: monitor.outputs.logAnalyticsId
  }
}

module treVault 'core/keyvault.bicep' = {
  name: 'keyvault-tre'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}tre-${token}'
    location: location
    tags: tags
    enablePurgeProtection: false
    kekName: kekName
    logAnalyticsId: monitor.outputs.logAnalyticsId
  }
}

// One account, one database per zone; each identity's role is scoped to its zone's database.
module cosmos 'core/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: '${abbrs.documentDBDatabaseAccounts}${token}'
    location: location
    tags: tags
    logAnalyticsId: monitor.outputs.logAnalyticsId
    databases: [
      {
        name: ttpDatabase
        containers: [
          { name: 'ttp-file1-versions', partitionKey: '/study' }
          { name: 'ttp-registry', partitionKey: '/study' }
          { name: 'ttp-links', partitionKey: '/id' }
          { name: 'keys', partitionKey: '/purpose' }
          { name: 'deliveries', partitionKey: '/id' }
          { name: 'audit', partitionKey: '/target' }
          { name: 'workflow-reports', partitionKey: '/workflow' }
        ]
      }
      {
        name: treDatabase
        containers: [
          { name: 'tre-catalogue', partitionKey: '/datasetId' }
          { name: 'tre-manifest-marks', partitionKey: '/study' }
          { name: 'projects', partitionKey: '/projectId' }
          { name: 'keys', partitionKey: '/purpose' }
          { name: 'deliveries', partitionKey: '/id' }
          { name: 'audit', partitionKey: '/target' }
          { name: 'workflow-reports', partitionKey: '/workflow' }
        ]
      }
    ]
  }
}

module access 'app/access.bicep' = {
  name: 'access'
  scope: rg
  params: {
    ttpPrincipalId: ttpIdentity.outputs.principalId
    trePrincipalId: treIdentity.outputs.principalId
    ttpDataAccountName: ttpData.outputs.name
    treDataAccountName: treData.outputs.name
    ttpHostAccountName: ttpHost.outputs.name
    treHostAccountName: treHost.outputs.name
    ttpVaultName: ttpVault.outputs.name
    ttpKekName: ttpVault.outputs.kekName
    treVaultName: treVault.outputs.name
    cosmosAccountName: cosmos.outputs.name
    ttpDatabaseName: ttpDatabase
    treDatabaseName: treDatabase
  }
}

module ttpPlan 'core/host-plan.bicep' = {
  name: 'plan-ttp'
  scope: rg
  params: {
    name: '${abbrs.webServerFarms}ttp-${token}'
    location: location
    tags: tags
  }
}

module trePlan 'core/host-plan.bicep' = {
  name: 'plan-tre'
  scope: rg
  params: {
    name: '${abbrs.webServerFarms}tre-${token}'
    location: location
    tags: tags
  }
}

module ttpApp 'app/zone-app.bicep' = {
  name: 'app-ttp'
  scope: rg
  dependsOn: [access]
  params: {
    name: '${abbrs.webSitesFunctions}ttp-${token}'
    location: location
    tags: union(tags, { 'azd-service-name': 'linkage-ttp' })
    planId: ttpPlan.outputs.id
    identityId: ttpIdentity.outputs.id
    hostStorageName: ttpHost.outputs.name
    logAnalyticsId: monitor.outputs.logAnalyticsId
    applicationInsightsName: monitor.outputs.applicationInsightsName
    disabledFunctions: zones.ttp
    appSettings: {
      FUNCTIONS_EXTENSION_VERSION: '~4'
      FUNCTIONS_WORKER_RUNTIME: 'dotnet-isolated'
      AZURE_CLIENT_ID: ttpIdentity.outputs.clientId
      AzureWebJobsStorage__blobServiceUri: ttpHost.outputs.blobEndpoint
      AzureWebJobsStorage__queueServiceUri: ttpHost.outputs.queueEndpoint
      AzureWebJobsStorage__tableServiceUri: ttpHost.outputs.tableEndpoint
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: ttpIdentity.outputs.clientId
      DataStorage__blobServiceUri: ttpData.outputs.blobEndpoint
      DataStorage__queueServiceUri: ttpData.outputs.queueEndpoint
      DataStorage__credential: 'managedidentity'
      DataStorage__clientId: ttpIdentity.outputs.clientId
      DataStorage__ProcessorInboxServiceUri: treData.outputs.blobEndpoint
      Cosmos__Endpoint: cosmos.outputs.endpoint
      Cosmos__Database: ttpDatabase
      Keys__VaultUri: ttpVault.outputs.uri
      Keys__KekName: kekName
      Keys__WrapAlgorithm: 'RSA-OAEP-256'
      Runtime__Zones: 'ttp'
      DurableTaskHubName: 'linkagettp'
      WorkflowPurgeSchedule: '0 30 3 * * *'
      DeliverySweepSchedule: '0 */10 * * * *'
      QuarterlyOptOutSchedule: '0 0 7 1 1,4,7,10 *'
      AnnualRefreshSchedule: '0 0 6 * * *'
      ProjectFilesPurgeSchedule: '0 0 4 * * *'
      Api__Authority: apiAuthority
      Api__Audience: apiAudience
      File1__KnownStudies: knownStudies
    }
  }
}

module treApp 'app/zone-app.bicep' = {
  name: 'app-tre'
  scope: rg
  dependsOn: [access]
  params: {
    name: '${abbrs.webSitesFunctions}tre-${token}'
    location: location
    tags: union(tags, { 'azd-service-name': 'linkage-tre' })
    planId: trePlan.outputs.id
    identityId: treIdentity.outputs.id
    hostStorageName: treHost.outputs.name
    logAnalyticsId: monitor.outputs.logAnalyticsId
    applicationInsightsName: monitor.outputs.applicationInsightsName
    disabledFunctions: zones.tre
    appSettings: {
      FUNCTIONS_EXTENSION_VERSION: '~4'
      FUNCTIONS_WORKER_RUNTIME: 'dotnet-isolated'
      AZURE_CLIENT_ID: treIdentity.outputs.clientId
      AzureWebJobsStorage__blobServiceUri: treHost.outputs.blobEndpoint
      AzureWebJobsStorage__queueServiceUri: treHost.outputs.queueEndpoint
      AzureWebJobsStorage__tableServiceUri: treHost.outputs.tableEndpoint
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: treIdentity.outputs.clientId
      DataStorage__blobServiceUri: treData.outputs.blobEndpoint
      DataStorage__queueServiceUri: treData.outputs.queueEndpoint
      DataStorage__credential: 'managedidentity'
      DataStorage__clientId: treIdentity.outputs.clientId
      Cosmos__Endpoint: cosmos.outputs.endpoint
      Cosmos__Database: treDatabase
      Keys__VaultUri: treVault.outputs.uri
      Keys__KekName: kekName
      Keys__WrapAlgorithm: 'RSA-OAEP-256'
      Runtime__Zones: 'processor,provisioning'
      DurableTaskHubName: 'linkagetre'
      WorkflowPurgeSchedule: '0 30 3 * * *'
      DeliverySweepSchedule: '0 */10 * * * *'
      QuarterlyOptOutSchedule: '0 0 7 1 1,4,7,10 *'
      AnnualRefreshSchedule: '0 0 6 * * *'
      ProjectFilesPurgeSchedule: '0 0 4 * * *'
      Api__Authority: apiAuthority
      Api__Audience: apiAudience
      TtpManifest__PublicKey: ttpManifestPublicKey
    }
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: environmentName
    location: location
    tags: tags
    applicationInsightsId: monitor.outputs.applicationInsightsId
    alertEmail: alertEmail
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_TTP_FUNCTION_APP_NAME string = ttpApp.outputs.name
output AZURE_TRE_FUNCTION_APP_NAME string = treApp.outputs.name
output TTP_DATA_ACCOUNT string = ttpData.outputs.name
output TRE_DATA_ACCOUNT string = treData.outputs.name
output TTP_KEY_VAULT_URI string = ttpVault.outputs.uri
output TRE_KEY_VAULT_URI string = treVault.outputs.uri
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
