// Every data-plane grant of the deployment, in one place (decision 0901). tests/Linkage.Infra.Tests reads the compiled
// template and proves from it that the zones stay apart; docs/deploy.md's access table is checked against it.
// No other module assigns a role.

@description('Principal (object) id of the TTP app\'s user-assigned identity.')
param ttpPrincipalId string
@description('Principal (object) id of the TRE app\'s user-assigned identity.')
param trePrincipalId string
@description('The TTP\'s identifier account: ttp-* containers, its blob trigger\'s poison queue.')
param ttpDataAccountName string
@description('The TRE\'s data account: processor-*, tre-*, project-<id> containers, and the processor\'s inbox from the TTP.')
param treDataAccountName string
param ttpHostAccountName string
param treHostAccountName string
param ttpVaultName string
param ttpKekName string
param treVaultName string
param cosmosAccountName string
param ttpDatabaseName string
param treDatabaseName string
@description('The processor\'s inbox from the TTP, in the TRE\'s account: the only place the TTP may write outside its own.')
param processorInboxContainer string = 'processor-from-ttp'

var roles = {
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'
  keyVaultCryptoOfficer: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603'
}

// Cosmos DB Built-in Data Contributor (data plane only: items and metadata reads; it cannot create containers).
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource ttpData 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: ttpDataAccountName
}

resource treData 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: treDataAccountName
}

resource treBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: treData
  name: 'default'
}

resource processorInbox 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: treBlobService
  name: processorInboxContainer
}

resource ttpHost 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: ttpHostAccountName
}

resource treHost 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: treHostAccountName
}

resource ttpVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: ttpVaultName
}

resource ttpKek 'Microsoft.KeyVault/vaults/keys@2023-07-01' existing = {
  parent: ttpVault
  name: ttpKekName
}

resource treVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: treVaultName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

// --- TTP identity -------------------------------------------------------------------------------------------------

// Blob Data Owner: the polling blob trigger on ttp-file1-inbox needs it with an identity (and the app reads and writes every ttp-* container).
resource ttpDataBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ttpData.id, ttpPrincipalId, roles.blobDataOwner)
  scope: ttpData
  properties: {
    principalId: ttpPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
  }
}

// The blob trigger's poison queue (webjobs-blobtrigger-poison) is in the trigger's account.
resource ttpDataQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ttpData.id, ttpPrincipalId, roles.queueDataContributor)
  scope: ttpData
  properties: {
    principalId: ttpPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
  }
}

// The only grant of the TTP outside its own resources: write the ID mapping files, snapshots and signed manifests.
resource ttpProcessorInbox 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(processorInbox.id, ttpPrincipalId, roles.blobDataContributor)
  scope: processorInbox
  properties: {
    principalId: ttpPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
  }
}

resource ttpHostBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ttpHost.id, ttpPrincipalId, roles.blobDataOwner)
  scope: ttpHost
  properties: {
    principalId: ttpPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
  }
}

resource ttpHostQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ttpHost.id, ttpPrincipalId, roles.queueDataContributor)
  scope: ttpHost
  properties: {
    principalId: ttpPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
  }
}

resource ttpHostTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ttpHost.id, ttpPrincipalId, roles.tableDataContributor)
  scope: ttpHost
  properties: {
    principalId: ttpPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
  }
}

// Wrap and unwrap with the TTP key only (a role on the key, not on the vault).
resource ttpKekUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(ttpKek.id, ttpPrincipalId, roles.keyVaultCryptoUser)
  scope: ttpKek
  properties: {
    principalId: ttpPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
  }
}

// The TTP database: registry, File 1 versions, links, its data keys (keys), deliveries, audit, workflow reports.
resource ttpCosmos 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, ttpDatabaseName, ttpPrincipalId, cosmosDataContributor)
  properties: {
    principalId: ttpPrincipalId
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    scope: '${cosmos.id}/dbs/${ttpDatabaseName}'
  }
}

// --- TRE identity -------------------------------------------------------------------------------------------------

// Blob Data Owner on its account: the File 2 blob trigger, curated versions, and the project-<id> containers it creates.
resource treDataBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(treData.id, trePrincipalId, roles.blobDataOwner)
  scope: treData
  properties: {
    principalId: trePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
  }
}

resource treDataQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(treData.id, trePrincipalId, roles.queueDataContributor)
  scope: treData
  properties: {
    principalId: trePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
  }
}

resource treHostBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(treHost.id, trePrincipalId, roles.blobDataOwner)
  scope: treHost
  properties: {
    principalId: trePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataOwner)
  }
}

resource treHostQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(treHost.id, trePrincipalId, roles.queueDataContributor)
  scope: treHost
  properties: {
    principalId: trePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
  }
}

resource treHostTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(treHost.id, trePrincipalId, roles.tableDataContributor)
  scope: treHost
  properties: {
    principalId: trePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
  }
}

// Crypto Officer on the TRE vault: wrap/unwrap with its KEK, and create, delete and purge the per-project keys
// (crypto-shredding, docs/keys.md; the vault has no purge protection).
resource treVaultOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(treVault.id, trePrincipalId, roles.keyVaultCryptoOfficer)
  scope: treVault
  properties: {
    principalId: trePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoOfficer)
  }
}

resource treCosmos 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, treDatabaseName, trePrincipalId, cosmosDataContributor)
  properties: {
    principalId: trePrincipalId
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    scope: '${cosmos.id}/dbs/${treDatabaseName}'
  }
}
