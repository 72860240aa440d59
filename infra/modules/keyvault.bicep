// Key Vault in RBAC mode (no access policies). Holds the bootstrap admin key, which the Function
// App reads as a Key Vault reference (BRIDGE_ADMIN_KEY=@Microsoft.KeyVault(SecretUri=...)) with its
// user-assigned identity; the app's SecretStore reads further secrets through KEY_VAULT_URI.

param name string
param location string
param tags object = {}

@secure()
@minLength(24)
@description('The bootstrap admin API key (BRIDGE_ADMIN_KEY), stored as the secret bridge-admin-key.')
param bridgeAdminKey string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource adminKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'bridge-admin-key'
  properties: {
    value: bridgeAdminKey
    contentType: 'text/plain'
  }
}

output NAME string = vault.name
output URI string = vault.properties.vaultUri
// Versionless, so the app picks up a rotated key without a redeploy.
output ADMIN_KEY_URI string = adminKey.properties.secretUri
