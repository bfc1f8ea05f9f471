@description('Key Vault holding one zone\'s key-encryption key (RBAC, soft delete).')
param name string
param location string
param tags object
@description('Purge protection: on for the TTP vault (its key must never be destroyable); off for the TRE vault, whose per-project keys are crypto-shredded by purge (docs/keys.md).')
param enablePurgeProtection bool
@description('Name of the key-encryption key created with the vault (RSA 3072; Keys__KekName).')
param kekName string
param logAnalyticsId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'premium' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

// Created once: a PUT of an existing key returns it unchanged (no new version), so redeploying does not rotate it.
resource kek 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: kekName
  properties: {
    kty: 'RSA-HSM'
    keySize: 3072
    keyOps: ['wrapKey', 'unwrapKey']
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [{ categoryGroup: 'audit', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
output kekName string = kek.name
