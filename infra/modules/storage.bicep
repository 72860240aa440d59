// One storage account, keyless (shared keys off, Entra ID only): the Functions host's own
// storage (AzureWebJobsStorage__accountName), the Flex Consumption deployment package container,
// and the container of the bridge's files routes (BRIDGE_FILES_CONTAINER).

param name string
param location string
param tags object = {}
param deploymentContainerName string
param filesContainerName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource filesContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: filesContainerName
  properties: {
    publicAccess: 'None'
  }
}

output NAME string = storage.name
output BLOB_ENDPOINT string = storage.properties.primaryEndpoints.blob
output DEPLOYMENT_CONTAINER_NAME string = deploymentContainer.name
output FILES_CONTAINER_NAME string = filesContainer.name
