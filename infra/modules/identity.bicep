// The one user-assigned identity of the bridge. The Function App runs as it, every
// identity-based connection (<Prefix>__credential=managedidentity, <Prefix>__clientId) and
// DefaultAzureCredential (AZURE_CLIENT_ID) use it, and rbac.bicep grants it its roles.

param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output ID string = identity.id
output NAME string = identity.name
output CLIENT_ID string = identity.properties.clientId
output PRINCIPAL_ID string = identity.properties.principalId
