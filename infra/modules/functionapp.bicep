// The Function App on Flex Consumption (Linux, Node 22), running as the bridge's user-assigned
// identity. EVERY app setting the bridge gets in Azure is in `appSettings` below and nowhere else
// (tests/unit/infra checks it against shared/config.ts, local.settings.example.json and the
// function registrations). No keys or connection strings: identity-based connections only.

param name string
param planName string
param location string
param tags object = {}

param identityId string
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param filesContainerName string
param applicationInsightsName string
param cosmosEndpoint string
param cosmosDatabaseName string
param cosmosContainerName string
param cosmosLeaseContainerName string
param serviceBusFullyQualifiedNamespace string
param keyVaultUri string
param adminKeySecretUri string
param webPubSubEndpoint string
param webPubSubHubName string

@description('AI providers to turn on: { openai: { model: \'gpt-4o-mini\' }, azureOpenai: { model: \'...\', baseUrl: \'https://<resource>.openai.azure.com/openai/v1\' } ... } (keys: openai, azureOpenai, gemini, groq, cloudflare, huggingface; baseUrl optional where shared/config.ts has a default).')
param aiProviders object = {}

@description('BRIDGE_AUTH_ISSUER (empty = bearer tokens off, API keys only).')
param authIssuer string = ''
@description('BRIDGE_AUTH_AUDIENCE (comma-separated).')
param authAudience string = ''
@description('BRIDGE_AUTH_USER_CLAIM (Entra ID: oid).')
param authUserClaim string = 'oid'
@description('BRIDGE_AUTH_JWKS_URL (empty = OIDC discovery of the issuer).')
param authJwksUrl string = ''

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// How an identity-based connection names the user-assigned identity (Functions host).
var managedIdentity = 'managedidentity'

var appSettings = {
  // Functions host storage (keys, timer singleton locks), identity-based.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: managedIdentity
  AzureWebJobsStorage__clientId: identityClientId
  // Application Insights with local auth off: the host sends telemetry with an Entra token.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
  // DefaultAzureCredential in the bridge's own code picks the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId

  // Cosmos DB: the events-changefeed trigger (connection CosmosDbConnection) and the store.
  CosmosDbConnection__accountEndpoint: cosmosEndpoint
  CosmosDbConnection__credential: managedIdentity
  CosmosDbConnection__clientId: identityClientId
  BRIDGE_STORE: 'cosmos'
  COSMOS_DATABASE: cosmosDatabaseName
  COSMOS_CONTAINER: cosmosContainerName
  COSMOS_LEASE_CONTAINER: cosmosLeaseContainerName
  BRIDGE_FEED_POLL_DELAY_MS: '250'
  BRIDGE_FEED_MAX_ITEMS: '100'

  // Service Bus: the bridge's sender and the triggers (connection ServiceBusConnection).
  BRIDGE_BUS: 'servicebus'
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__credential: managedIdentity
  ServiceBusConnection__clientId: identityClientId

  // Key Vault: the bootstrap admin key as a reference; the SecretStore reads the vault itself.
  BRIDGE_ADMIN_KEY: '@Microsoft.KeyVault(SecretUri=${adminKeySecretUri})'
  BRIDGE_SECRETS: 'keyvault'
  KEY_VAULT_URI: keyVaultUri
  BRIDGE_SECRET_CACHE_SECONDS: '300'

  // Blob storage for the files routes.
  BRIDGE_FILES: 'azure'
  AZURE_STORAGE_BLOB_ENDPOINT: storage.properties.primaryEndpoints.blob
  BRIDGE_FILES_CONTAINER: filesContainerName
  BRIDGE_FILES_MAX_BYTES: '26214400'

  // Event streams (GET /api/events/stream) and realtime push through Web PubSub.
  BRIDGE_STREAM_HEARTBEAT_SECONDS: '15'
  BRIDGE_STREAM_MAX_SECONDS: '240'
  BRIDGE_STREAM_MAX_CONNECTIONS: '1000'
  BRIDGE_STREAM_MAX_LAG_EVENTS: '1000'
  BRIDGE_STREAM_POLL_MS: '250'
  BRIDGE_STREAM_REPLAY_EVENTS: '2000'
  BRIDGE_STREAM_TICKET_SECONDS: '60'
  BRIDGE_REALTIME: 'webpubsub'
  WEBPUBSUB_ENDPOINT: webPubSubEndpoint
  BRIDGE_WEBPUBSUB_HUB: webPubSubHubName
  BRIDGE_REALTIME_TOKEN_MINUTES: '60'

  // AI analysis. A provider is on when aiProviders names its model; its API key is then read
  // from the Key Vault secret ai-<provider>-api-key (create it yourself, see README.md).
  // Empty values fall back to the defaults of shared/config.ts.
  AI_PROVIDER_ORDER: 'openai,gemini,groq,cloudflare,huggingface'
  AI_OPENAI_BASE_URL: aiProviders.?openai.?baseUrl ?? ''
  AI_OPENAI_MODEL: aiProviders.?openai.?model ?? ''
  AI_OPENAI_EMBEDDING_MODEL: aiProviders.?openai.?embeddingModel ?? ''
  AI_OPENAI_API_KEY_SECRET: empty(aiProviders.?openai.?model ?? '') ? '' : 'ai-openai-api-key'
  AI_AZURE_OPENAI_BASE_URL: aiProviders.?azureOpenai.?baseUrl ?? ''
  AI_AZURE_OPENAI_MODEL: aiProviders.?azureOpenai.?model ?? ''
  AI_AZURE_OPENAI_EMBEDDING_MODEL: aiProviders.?azureOpenai.?embeddingModel ?? ''
  AI_AZURE_OPENAI_API_KEY_SECRET: empty(aiProviders.?azureOpenai.?model ?? '') ? '' : 'ai-azure-openai-api-key'
  AI_GEMINI_BASE_URL: aiProviders.?gemini.?baseUrl ?? ''
  AI_GEMINI_MODEL: aiProviders.?gemini.?model ?? ''
  AI_GEMINI_EMBEDDING_MODEL: aiProviders.?gemini.?embeddingModel ?? ''
  AI_GEMINI_API_KEY_SECRET: empty(aiProviders.?gemini.?model ?? '') ? '' : 'ai-gemini-api-key'
  AI_GROQ_BASE_URL: aiProviders.?groq.?baseUrl ?? ''
  AI_GROQ_MODEL: aiProviders.?groq.?model ?? ''
  AI_GROQ_EMBEDDING_MODEL: aiProviders.?groq.?embeddingModel ?? ''
  AI_GROQ_API_KEY_SECRET: empty(aiProviders.?groq.?model ?? '') ? '' : 'ai-groq-api-key'
  AI_CLOUDFLARE_BASE_URL: aiProviders.?cloudflare.?baseUrl ?? ''
  AI_CLOUDFLARE_MODEL: aiProviders.?cloudflare.?model ?? ''
  AI_CLOUDFLARE_EMBEDDING_MODEL: aiProviders.?cloudflare.?embeddingModel ?? ''
  AI_CLOUDFLARE_API_KEY_SECRET: empty(aiProviders.?cloudflare.?model ?? '') ? '' : 'ai-cloudflare-api-key'
  AI_HUGGINGFACE_BASE_URL: aiProviders.?huggingface.?baseUrl ?? ''
  AI_HUGGINGFACE_MODEL: aiProviders.?huggingface.?model ?? ''
  AI_HUGGINGFACE_EMBEDDING_MODEL: aiProviders.?huggingface.?embeddingModel ?? ''
  AI_HUGGINGFACE_API_KEY_SECRET: empty(aiProviders.?huggingface.?model ?? '') ? '' : 'ai-huggingface-api-key'
  AI_TIMEOUT_MS: '30000'
  AI_FAILURE_THRESHOLD: '3'
  AI_RATE_LIMIT_THRESHOLD: '3'
  AI_COOLDOWN_SECONDS: '300'
  // Empty: the built-in role priors.
  BRIDGE_BAYES_PRIORS: ''
  BRIDGE_TOKEN_COST_WORD_CLOUD: '5'
  BRIDGE_TOKEN_COST_ANALYZE_TITLE: '7'
  BRIDGE_TOKEN_COST_PATHWAYS: '7'
  BRIDGE_TOKEN_COST_MARKET: '7'
  BRIDGE_TOKEN_COST_RELATIONSHIPS: '5'
  BRIDGE_TOKEN_COST_CAREER_RECOMMENDATIONS: '7'
  BRIDGE_TOKEN_COST_COACHING: '10'
  BRIDGE_RESUME_MAX_BYTES: '5242880'
  BRIDGE_JOB_POSTINGS_MAX: '5000'
  BRIDGE_TEXT_WORKER_THREADS: '1'
  BRIDGE_TEXT_WORKER_TIMEOUT_MS: '20000'
  // Metrics across instances and the health monitor timers.
  BRIDGE_METRICS_PUBLISH_SECONDS: '5'
  BRIDGE_METRICS_STALE_SECONDS: '30'
  BRIDGE_METRICS_TTL_SECONDS: '600'
  BRIDGE_LOCKSTEP_MONITOR_ENABLED: 'true'
  BRIDGE_LOCKSTEP_MONITOR_SCHEDULE: '0 * * * * *'
  BRIDGE_PROVIDER_CHECK_ENABLED: 'true'
  BRIDGE_PROVIDER_CHECK_SCHEDULE: '0 */5 * * * *'

  // Behaviour (the same defaults as shared/config.ts; change them here).
  BRIDGE_PROTECTED_FIELDS: 'role,permissions,status'
  BRIDGE_SYNC_MAX_RETRIES: '20'
  BRIDGE_MAX_BODY_BYTES: '1048576'
  BRIDGE_AUTH_CACHE_SECONDS: '30'
  // Bearer tokens (Entra ID or any OIDC issuer): only public keys are read, so no secret is set.
  BRIDGE_AUTH_ISSUER: authIssuer
  BRIDGE_AUTH_AUDIENCE: authAudience
  BRIDGE_AUTH_USER_CLAIM: authUserClaim
  BRIDGE_AUTH_JWKS_URL: authJwksUrl
  BRIDGE_AUTH_CLOCK_SKEW_SECONDS: '60'
  BRIDGE_AUTH_JWKS_CACHE_SECONDS: '600'
  BRIDGE_AUTH_JWKS_COOLDOWN_SECONDS: '30'
  // Usage counts and rate limits (the ai class is shared through Cosmos DB; read/write per instance).
  BRIDGE_USAGE_FLUSH_SECONDS: '60'
  BRIDGE_USAGE_RETENTION_DAYS: '90'
  BRIDGE_RATE_LIMITS_END_USER: 'ai=100/h,write=120/m,read=600/m'
  BRIDGE_RATE_LIMITS_KEY: 'ai=100/h'
  BRIDGE_EVENTS_FAST_PATH: 'true'
  BRIDGE_SWEEP_SCHEDULE: '*/10 * * * * *'
  BRIDGE_SWEEP_GRACE_SECONDS: '10'
  // Every accepted event must fit a message of servicebus.bicep's tier: Standard holds 256 KiB per
  // message; 192 KiB leaves room for properties, headers and the webhook retry wrapper
  // (tests/unit/infra/event-size-limit.test.ts checks the two together).
  BRIDGE_MAX_EVENT_BYTES: '196608'
  BRIDGE_EVENT_RETENTION_DAYS: '7'
  BRIDGE_WEBHOOK_MAX_ATTEMPTS: '8'
  BRIDGE_WEBHOOK_MAX_AGE_SECONDS: '86400'
  BRIDGE_WEBHOOK_BACKOFF_BASE_MS: '1000'
  BRIDGE_WEBHOOK_TIMEOUT_MS: '5000'
  BRIDGE_WEBHOOK_ALLOW_PRIVATE: 'false'
  BRIDGE_WEBHOOK_DISABLE_AFTER_SECONDS: '432000'
  // Admin operations (issue 14).
  BRIDGE_ADMIN_BATCH_MAX_ITEMS: '1000'
  BRIDGE_ADMIN_BATCH_CONCURRENCY: '8'
  BRIDGE_ADMIN_JOB_STALL_SECONDS: '120'
  BRIDGE_ADMIN_EXPORT_LINK_SECONDS: '900'
  BRIDGE_ADMIN_IMPORT_MAX_LINES: '1000000'
}

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
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd deploys the `api` service of azure.yaml to the app with this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

output NAME string = functionApp.name
output URL string = 'https://${functionApp.properties.defaultHostName}'
