// Service Bus namespace (Standard: topics need it), keyless (local/SAS auth off), with exactly the
// entities of shared/domain/bus-topology.ts, read from ../bus-topology.json:
// - topic bridge-events with duplicate detection on messageId (CloudEvent ids are deterministic),
//   and its subscriptions, each with one SQL rule on the eventType application property
//   (sqlFilterFor(subscription): '1=1' when a subscription takes every event type);
// - queues bridge-commands and webhook-retries, with the same duplicate detection window and
//   dead-lettering (after maxDeliveryCount deliveries, and on expiry).
// Creating a rule through ARM replaces the subscription's implicit $Default (1=1) rule, so each
// subscription ends up with exactly the rule below.

param name string
param location string
param tags object = {}

var topology = loadJsonContent('../bus-topology.json')
var ruleName = 'event-type-filter'
var lockDuration = 'PT1M'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource topics 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = [
  for topic in topology.topics: {
    parent: namespace
    name: topic.name
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: topology.duplicateDetectionHistoryTimeWindow
      enableBatchedOperations: true
    }
  }
]

resource topicSubscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = [
  for sub in topology.subscriptions: {
    name: '${namespace.name}/${sub.topic}/${sub.name}'
    properties: {
      maxDeliveryCount: sub.maxDeliveryCount
      lockDuration: lockDuration
      deadLetteringOnMessageExpiration: true
      deadLetteringOnFilterEvaluationExceptions: true
      enableBatchedOperations: true
    }
    dependsOn: [
      topics
    ]
  }
]

resource subscriptionRules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2024-01-01' = [
  for (sub, i) in topology.subscriptions: {
    parent: topicSubscriptions[i]
    name: ruleName
    properties: {
      filterType: 'SqlFilter'
      sqlFilter: {
        sqlExpression: sub.sqlFilter
      }
    }
  }
]

resource queues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queue in topology.queues: {
    parent: namespace
    name: queue.name
    properties: {
      maxDeliveryCount: queue.maxDeliveryCount
      lockDuration: lockDuration
      deadLetteringOnMessageExpiration: true
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: topology.duplicateDetectionHistoryTimeWindow
      enableBatchedOperations: true
    }
  }
]

output NAME string = namespace.name
// <name>.servicebus.windows.net (from the endpoint, so other clouds get their own suffix).
output FULLY_QUALIFIED_NAMESPACE string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
