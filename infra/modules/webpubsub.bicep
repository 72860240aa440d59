// Azure Web PubSub for realtime push (BRIDGE_REALTIME=webpubsub): it holds the portals' long-lived
// WebSocket connections so the Function App does not have to. Keyless: local (access key) auth is
// off, so the bridge signs nothing itself; it asks the service for client tokens and sends with
// its user-assigned identity (Web PubSub Service Owner, granted in rbac.bicep). The hub accepts no
// anonymous connections: a client connects only with a token from POST /api/realtime/negotiate.

param name string
param location string
param tags object = {}
@description('BRIDGE_WEBPUBSUB_HUB: the hub the bridge pushes to.')
param hubName string
@allowed(['Free_F1', 'Standard_S1'])
@description('Free_F1: 20 connections, for trying it; Standard_S1: 1,000 connections per unit.')
param skuName string = 'Standard_S1'

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName == 'Free_F1' ? 'Free' : 'Standard'
    capacity: 1
  }
  properties: {
    disableLocalAuth: true
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
  }
}

resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: webPubSub
  name: hubName
  properties: {
    anonymousConnectPolicy: 'deny'
  }
}

output NAME string = webPubSub.name
output ENDPOINT string = 'https://${webPubSub.properties.hostName}'
output HUB string = hub.name
