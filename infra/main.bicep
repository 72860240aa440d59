// Portal Bridge in Azure: everything the Function App needs, keyless, behind one user-assigned
// identity. `azd up` (azure.yaml) or:
//   az deployment sub create -l <region> -f infra/main.bicep \
//     -p environmentName=<name> location=<region> bridgeAdminKey=<at least 24 characters>
// Outputs are UPPER_SNAKE and, where they match an app setting, carry its name and value
// (azd writes them to .azure/<env>/.env).

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment; with the subscription and location it seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@secure()
@minLength(24)
@description('Bootstrap admin API key (BRIDGE_ADMIN_KEY), stored in Key Vault. Set BRIDGE_ADMIN_KEY in the azd environment; the metadata lets azd generate one when none is given.')
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 40
    }
  }
})
param bridgeAdminKey string

@description('Resource group name; empty for rg-<environmentName>.')
param resourceGroupName string = ''

@description('COSMOS_DATABASE')
param cosmosDatabaseName string = 'portal-bridge'
@description('COSMOS_CONTAINER: every bridge document, partition key /pk.')
param cosmosContainerName string = 'state'
@description('COSMOS_LEASE_CONTAINER: leases of the events-changefeed trigger.')
param cosmosLeaseContainerName string = 'leases'
@description('BRIDGE_FILES_CONTAINER: blob container of the files routes.')
param filesContainerName string = 'files'

@description('AI providers to turn on, e.g. { openai: { model: \'gpt-4o-mini\' } }; see modules/functionapp.bicep. Each needs its key in the Key Vault secret ai-<provider>-api-key.')
param aiProviders object = {}

@description('BRIDGE_AUTH_ISSUER: the OIDC issuer of bearer tokens, e.g. https://login.microsoftonline.com/<tenant id>/v2.0; empty = API keys only.')
param authIssuer string = ''
@description('BRIDGE_AUTH_AUDIENCE: the audience(s) tokens must carry, comma-separated (the app registration\'s client id and/or api://… URI); required with authIssuer.')
param authAudience string = ''
@description('BRIDGE_AUTH_USER_CLAIM: the claim holding the user id; oid for Entra ID (stable across apps).')
param authUserClaim string = 'oid'
@description('BRIDGE_AUTH_JWKS_URL: the issuer\'s key set, when it should not come from OIDC discovery; empty = discovery.')
param authJwksUrl string = ''

@description('Cosmos DB serverless (true) or autoscale provisioned throughput (false).')
param cosmosServerless bool = true

@description('BRIDGE_WEBPUBSUB_HUB: the Web PubSub hub of realtime push.')
param webPubSubHubName string = 'bridge'
@allowed(['Free_F1', 'Standard_S1'])
@description('Web PubSub tier: Free_F1 (20 connections) to try it, Standard_S1 (1,000 per unit) for use.')
param webPubSubSku string = 'Standard_S1'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${take(functionAppName, 32)}'
    filesContainerName: filesContainerName
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    stateContainerName: cosmosContainerName
    leaseContainerName: cosmosLeaseContainerName
    serverless: cosmosServerless
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: 'sb-${resourceToken}'
    location: location
    tags: tags
  }
}

module webPubSub 'modules/webpubsub.bicep' = {
  name: 'webpubsub'
  scope: rg
  params: {
    name: 'wps-${resourceToken}'
    location: location
    tags: tags
    hubName: webPubSubHubName
    skuName: webPubSubSku
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    bridgeAdminKey: bridgeAdminKey
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.PRINCIPAL_ID
    storageAccountName: storage.outputs.NAME
    filesContainerName: storage.outputs.FILES_CONTAINER_NAME
    cosmosAccountName: cosmos.outputs.NAME
    serviceBusNamespaceName: serviceBus.outputs.NAME
    keyVaultName: keyVault.outputs.NAME
    applicationInsightsName: monitoring.outputs.APPLICATION_INSIGHTS_NAME
    webPubSubName: webPubSub.outputs.NAME
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.ID
    identityClientId: identity.outputs.CLIENT_ID
    storageAccountName: storage.outputs.NAME
    deploymentContainerName: storage.outputs.DEPLOYMENT_CONTAINER_NAME
    filesContainerName: storage.outputs.FILES_CONTAINER_NAME
    applicationInsightsName: monitoring.outputs.APPLICATION_INSIGHTS_NAME
    cosmosEndpoint: cosmos.outputs.ENDPOINT
    cosmosDatabaseName: cosmos.outputs.DATABASE_NAME
    cosmosContainerName: cosmos.outputs.STATE_CONTAINER_NAME
    cosmosLeaseContainerName: cosmos.outputs.LEASE_CONTAINER_NAME
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.FULLY_QUALIFIED_NAMESPACE
    keyVaultUri: keyVault.outputs.URI
    adminKeySecretUri: keyVault.outputs.ADMIN_KEY_URI
    webPubSubEndpoint: webPubSub.outputs.ENDPOINT
    webPubSubHubName: webPubSub.outputs.HUB
    aiProviders: aiProviders
    authIssuer: authIssuer
    authAudience: authAudience
    authUserClaim: authUserClaim
    authJwksUrl: authJwksUrl
  }
  // The identity holds its roles before the app first starts (Key Vault reference, host storage).
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.NAME
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.URL
output AZURE_CLIENT_ID string = identity.outputs.CLIENT_ID
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.APPLICATIONINSIGHTS_CONNECTION_STRING
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.NAME
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.BLOB_ENDPOINT
output BRIDGE_FILES_CONTAINER string = storage.outputs.FILES_CONTAINER_NAME
output COSMOS_ENDPOINT string = cosmos.outputs.ENDPOINT
output COSMOS_DATABASE string = cosmos.outputs.DATABASE_NAME
output COSMOS_CONTAINER string = cosmos.outputs.STATE_CONTAINER_NAME
output COSMOS_LEASE_CONTAINER string = cosmos.outputs.LEASE_CONTAINER_NAME
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.FULLY_QUALIFIED_NAMESPACE
output KEY_VAULT_NAME string = keyVault.outputs.NAME
output KEY_VAULT_URI string = keyVault.outputs.URI
output WEBPUBSUB_ENDPOINT string = webPubSub.outputs.ENDPOINT
output BRIDGE_WEBPUBSUB_HUB string = webPubSub.outputs.HUB
output BRIDGE_AUTH_ISSUER string = authIssuer
output BRIDGE_AUTH_AUDIENCE string = authAudience
output BRIDGE_AUTH_USER_CLAIM string = authUserClaim
output BRIDGE_AUTH_JWKS_URL string = authJwksUrl
