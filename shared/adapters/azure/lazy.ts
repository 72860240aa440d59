/**
 * The Azure adapters, each loaded on first use. A bridge on the embedded adapters (the local host,
 * tests) never loads the Azure SDKs behind them, which would cost it some 35 MB of resident memory
 * and start-up time for nothing (measured: @azure/storage-blob, identity, service-bus and cosmos
 * hold ~23 MB of heap alone once loaded). Types are imported statically; only values load late.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const azureAdapters = {
  cosmos: () => require('./cosmos-document-store') as typeof import('./cosmos-document-store'),
  serviceBus: () => require('./service-bus-sender') as typeof import('./service-bus-sender'),
  blob: () => require('./blob-store') as typeof import('./blob-store'),
  keyVault: () => require('./key-vault-secret-store') as typeof import('./key-vault-secret-store'),
  webPubSub: () => require('./web-pubsub-publisher') as typeof import('./web-pubsub-publisher'),
  identity: () => require('@azure/identity') as typeof import('@azure/identity'),
};
