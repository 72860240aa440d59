// Cosmos DB for NoSQL, keyless (local auth off: data access only through the SQL role assignment
// in rbac.bicep). The database, the state container and the change-feed lease container are all
// created here, up front: events-changefeed runs with createLeaseContainerIfNotExists: false.

param name string
param location string
param tags object = {}
param databaseName string
param stateContainerName string
param leaseContainerName string

@description('Serverless (pay per request) or provisioned throughput (autoscale, 1000 RU/s max).')
param serverless bool = true

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: serverless ? [{ name: 'EnableServerless' }] : []
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: serverless ? {} : { autoscaleSettings: { maxThroughput: 1000 } }
  }
}

// Every bridge document (users, their events, state keys, keys, subscriptions ...) lives here,
// partitioned by /pk so a user's document and its event commit in one transactional batch.
// Documents carry their own `ttl`; defaultTtl -1 turns TTL on without a default expiry.
resource stateContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = {
  parent: database
  name: stateContainerName
  properties: {
    resource: {
      id: stateContainerName
      partitionKey: {
        paths: [
          '/pk'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
      // Only what queries filter or sort on is indexed (every other path is excluded, so large
      // bodies cost no index terms on write). Keep in step with BRIDGE_CONTAINER_DEFINITION in
      // shared/adapters/azure/cosmos-document-store.ts (tests/unit/infra checks they agree).
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/type/?'
          }
          {
            path: '/pk/?'
          }
          {
            path: '/id/?'
          }
          {
            path: '/expiresAtMs/?'
          }
          // Admin listings and jobs: users by id, times, tombstones; jobs by status; analytics days.
          {
            path: '/body/userId/?'
          }
          {
            path: '/body/createdAt/?'
          }
          {
            path: '/body/updatedAt/?'
          }
          {
            path: '/body/deleted/?'
          }
          {
            path: '/body/status/?'
          }
          {
            path: '/body/day/?'
          }
          // Profile fields: the admin search (q over name, email, title) and field = value filters.
          {
            path: '/body/data/*'
          }
        ]
        excludedPaths: [
          {
            path: '/*'
          }
          {
            path: '/"_etag"/?'
          }
        ]
        // Keyset paging orders by (pk, id); GET /api/admin/users sorts users by (type, field, pk,
        // id) for each sortable field (userId, createdAt, updatedAt): one composite index each.
        compositeIndexes: [
          [
            {
              path: '/pk'
              order: 'ascending'
            }
            {
              path: '/id'
              order: 'ascending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/body/userId'
              order: 'ascending'
            }
            {
              path: '/pk'
              order: 'ascending'
            }
            {
              path: '/id'
              order: 'ascending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/body/createdAt'
              order: 'ascending'
            }
            {
              path: '/pk'
              order: 'ascending'
            }
            {
              path: '/id'
              order: 'ascending'
            }
          ]
          [
            {
              path: '/type'
              order: 'ascending'
            }
            {
              path: '/body/updatedAt'
              order: 'ascending'
            }
            {
              path: '/pk'
              order: 'ascending'
            }
            {
              path: '/id'
              order: 'ascending'
            }
          ]
        ]
      }
    }
  }
}

// Leases of the events-changefeed trigger; the Functions Cosmos DB extension requires /id.
resource leaseContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = {
  parent: database
  name: leaseContainerName
  properties: {
    resource: {
      id: leaseContainerName
      partitionKey: {
        paths: [
          '/id'
        ]
        kind: 'Hash'
      }
    }
  }
}

output NAME string = account.name
output ENDPOINT string = account.properties.documentEndpoint
output DATABASE_NAME string = database.name
output STATE_CONTAINER_NAME string = stateContainer.name
output LEASE_CONTAINER_NAME string = leaseContainer.name
