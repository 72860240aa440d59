import type { BridgeConfig } from './config';
import { loadConfig } from './config';
import { NodeWebhookTransport } from './adapters/http/node-webhook-transport';
import { openEmbeddedBus, type EmbeddedBus } from './adapters/embedded/embedded-bus';
import { openSqliteDocumentStore } from './adapters/embedded/sqlite-document-store';
import { BUS_TOPOLOGY, withoutPortalSubscriptions } from './domain/bus-topology';
import { systemClock, type Clock } from './ports/clock';
import type { DocumentStore } from './ports/document-store';
import type { MessageSender } from './ports/message-sender';
import type { WebhookTransport } from './ports/webhook-transport';
import { ApiKeyService } from './services/api-key-service';
import { CommandService } from './services/command-service';
import { CommitFeed } from './services/commit-feed';
import { EventLog } from './services/event-log';
import type { EventMetrics } from './services/event-metrics';
import type { EventLimits, OutboxItem } from './services/event-outbox';
import { EventPropagator } from './services/event-propagator';
import type { EventPublisher } from './services/event-publisher';
import { EventQuarantine } from './services/event-quarantine';
import { OutboxEventTopic } from './services/outbox-event-topic';
import { WriteAdmission } from './services/write-admission';
import { HealthService } from './services/health-service';
import { LockstepService } from './services/lockstep-service';
import { PublishService } from './services/publish-service';
import { StateService } from './services/state-service';
import type { SyncMetrics } from './services/sync-metrics';
import { TelemetryEventMetrics, TelemetrySyncMetrics } from './services/telemetry-instruments';
import { SyncService } from './services/sync-service';
import { WebhookService } from './services/webhook-service';
import { buildChatModels } from './adapters/ai/providers';
import { taxonomyRoleLookup } from './adapters/ai/role-catalog';
import { defaultGazetteer } from './domain/analysis/geo';
import type { ChatModel } from './ports/chat-model';
import { ProfileLocationIndex } from './services/analysis-market-service';
import { AnalysisService } from './services/analysis-service';
import { ProviderLockService, lockPolicyFor } from './services/provider-lock-service';
import type { TokenCredential } from '@azure/identity';
import { azureAdapters } from './adapters/azure/lazy';
import { createTelemetry } from './adapters/azure/app-insights-telemetry';
import { openFileBlobStore } from './adapters/embedded/file-blob-store';
import { SettingsSecretStore } from './adapters/embedded/settings-secret-store';
import type { BlobStore } from './ports/blob-store';
import type { SecretStore } from './ports/secret-store';
import type { Telemetry } from './ports/telemetry';
import { FileService } from './services/file-service';
import { SecretService } from './services/secret-service';
import { JobTitleService } from './services/job-title-service';
import { MarketPostingsService } from './services/market-postings-service';
import { TokenService } from './services/token-service';

export interface Services {
  config: BridgeConfig;
  clock: Clock;
  store: DocumentStore;
  /** The outgoing side of the bus (Service Bus or the embedded bus). */
  bus: MessageSender;
  /** Set when the bus is the embedded one: the local host receives from it to drive triggers. */
  embeddedBus?: EmbeddedBus;
  apiKeys: ApiKeyService;
  sync: SyncService;
  syncMetrics: SyncMetrics;
  state: StateService;
  health: HealthService;
  eventMetrics: EventMetrics;
  /**
   * Commit notifications: every commit's events, right after the commit, in this instance. Subscribe
   * to react at once (an event stream); a durable path must still cover what a listener misses.
   */
  commits: Pick<CommitFeed, 'subscribe'>;
  /** How committed events reach the bridge-events topic (config.events.topic). */
  propagator: EventPublisher;
  /** With BRIDGE_EVENT_TOPIC=outbox: the topic itself (the local host runs its consumers). */
  outboxTopic?: OutboxEventTopic;
  /** Events the bus or a consumer refused, set aside for admins. */
  quarantine: EventQuarantine;
  /** Backpressure for event-producing writes (outbox topic only). */
  admission?: WriteAdmission;
  events: EventLog;
  publisher: PublishService;
  webhooks: WebhookService;
  commands: CommandService;
  lockstep: LockstepService;
  /** The single-provider lock over the AI providers (GET /api/providers). */
  providerLock: ProviderLockService;
  /** Comprehensive (AI provider or heuristic), geographic and Bayesian analyses. */
  analysis: AnalysisService;
  /** Files (Blob Storage or the embedded file store): /api/files. */
  files: FileService;
  /** Secrets (Key Vault or settings + the embedded secrets file): /api/secrets, and the bridge's own keys. */
  secrets: SecretService;
  /** Custom metrics and events (Application Insights, or the no-op without a connection string). */
  telemetry: Telemetry;
  /** Job-title intelligence over the taxonomy in use (built-in or imported). */
  jobTitles: JobTitleService;
  /** Stored job-posting counts per title and period (the market operation's data). */
  marketPostings: MarketPostingsService;
  /** Token balances, charges and grants with their ledger. */
  tokens: TokenService;
  close(): Promise<void>;
}

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
}

/** Composition root: config → adapters → services. Builds every client exactly once. */
export function createServices(config: BridgeConfig, overrides: Overrides = {}): Services {
  const clock = overrides.clock ?? systemClock;
  const container = config.store.container;
  const store = overrides.store ?? openStore(config, clock);
  let embeddedBus: EmbeddedBus | undefined;
  let closeBusClient = async () => undefined as void;
  let bus = overrides.bus;
  if (!bus && config.bus.kind === 'servicebus') {
    // The SDK's default 30 s between retries would stall a sync's fast path; the change feed and
    // the sweeper retry on their own schedule anyway.
    const { createServiceBusClient, ServiceBusMessageSender } = azureAdapters.serviceBus();
    const client = createServiceBusClient({
      fullyQualifiedNamespace: config.bus.fullyQualifiedNamespace,
      connectionString: config.bus.connectionString,
      clientOptions: { retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 } },
    });
    bus = new ServiceBusMessageSender(client);
    closeBusClient = () => client.close();
  } else if (!bus) {
    embeddedBus = openEmbeddedBus(config.store.dataDir, withoutPortalSubscriptions(BUS_TOPOLOGY), {
      durability: config.store.durability,
      clock,
    });
    bus = embeddedBus;
  }
  const transport =
    overrides.webhookTransport ?? new NodeWebhookTransport(config.webhooks.allowPrivateAddresses);

  const { blobStore, secretStore, telemetry } = buildFilesSecretsTelemetry(config, clock, overrides);
  const syncMetrics = new TelemetrySyncMetrics(clock, telemetry);
  const eventMetrics = new TelemetryEventMetrics(telemetry);
  const warn = (message: string) => console.warn(message);
  const events = new EventLog(store, container, clock);
  const limits: EventLimits = {
    retentionSeconds: config.events.retentionSeconds,
    maxEventBytes: config.events.maxEventBytes,
  };
  const quarantine = new EventQuarantine(store, container, clock, limits.retentionSeconds);
  // Every commit notification fans out from here: the fast path (bus) or the topic's consumers
  // (outbox), the lockstep monitor, and whoever subscribes through `services.commits`. The durable
  // paths (change feed and sweeper, or the outbox topic's checkpoint) cover what a listener misses.
  const commits = new CommitFeed(warn);
  const onCommit = (items: OutboxItem[]) => commits.publish(items);
  let propagator: EventPublisher;
  let outboxTopic: OutboxEventTopic | undefined;
  let admission: WriteAdmission | undefined;
  if (config.events.topic === 'outbox') {
    const topic = new OutboxEventTopic({
      store,
      container,
      leaseContainer: config.triggers.COSMOS_LEASE_CONTAINER,
      clock,
      metrics: eventMetrics,
      quarantine,
      log: events,
      maxQueued: config.events.backlogMax,
      onProgress: () => admission?.progress(),
      warn,
    });
    admission = new WriteAdmission(topic, {
      backlogMax: config.events.backlogMax,
      lagMaxMs: config.events.maxLagMs,
      waitMs: config.events.backpressureWaitMs,
    });
    commits.subscribe((items) => topic.publishSoon(items));
    propagator = outboxTopic = topic;
  } else {
    const busPropagator = new EventPropagator({
      store,
      container,
      sender: bus,
      clock,
      metrics: eventMetrics,
      retentionSeconds: limits.retentionSeconds,
      log: events,
      quarantine,
      warn,
    });
    if (config.events.fastPath) commits.subscribe((items) => busPropagator.publishSoon(items));
    propagator = busPropagator;
  }
  const sync = new SyncService(
    store,
    container,
    clock,
    syncMetrics,
    { ...config.sync, events: limits, ...(admission ? { admission } : {}) },
    onCommit,
  );
  const state = new StateService(
    store,
    container,
    clock,
    { maxRetries: config.sync.maxRetries, events: limits, ...(admission ? { admission } : {}) },
    onCommit,
  );
  const publisher = new PublishService(store, container, clock, limits, onCommit, admission);
  // AI providers are built once; the lock lives in the store so every instance agrees on it.
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
  const providerLock = new ProviderLockService(
    store,
    container,
    clock,
    lockPolicyFor(config.ai, chatModels.keys()),
  );
  const analysis = new AnalysisService({
    lock: providerLock,
    models: chatModels,
    // The taxonomy in use (built-in or imported); jobTitles is built below, before any request.
    roles: taxonomyRoleLookup(async () => (await jobTitles.index()).index),
    priors: config.analysis.rolePriors,
    publisher,
    gazetteer: defaultGazetteer,
    locations: new ProfileLocationIndex(store, container, clock),
  });
  const lockstep = new LockstepService(
    store,
    container,
    clock,
    sync,
    propagator,
    eventMetrics,
    config.events.sweepGraceSeconds * 1000,
    quarantine,
  );
  commits.subscribe((items) => lockstep.noteCommitted(items));
  const jobTitles = new JobTitleService(store, container, clock);
  const marketPostings = new MarketPostingsService(store, container, clock, jobTitles);
  const tokens = new TokenService(store, container, clock, { events: limits }, onCommit);

  return {
    config,
    clock,
    store,
    bus,
    embeddedBus,
    syncMetrics,
    eventMetrics,
    commits,
    propagator,
    ...(outboxTopic ? { outboxTopic } : {}),
    quarantine,
    ...(admission ? { admission } : {}),
    events,
    sync,
    state,
    publisher,
    lockstep,
    files: new FileService(blobStore, { maxBytes: config.files.maxBytes }),
    secrets: new SecretService(secretStore),
    telemetry,
    providerLock,
    analysis,
    apiKeys: new ApiKeyService(store, container, clock, config.adminKey, config.auth.cacheSeconds),
    health: new HealthService(store, clock),
    webhooks: new WebhookService(store, container, bus, transport, clock, config.webhooks, warn),
    commands: new CommandService(store, container, bus, clock, sync, publisher, analysis),
    jobTitles,
    marketPostings,
    tokens,
    close: async () => {
      if (transport instanceof NodeWebhookTransport) transport.close();
      await propagator.drain();
      await bus.close();
      await closeBusClient();
      await Promise.allSettled([blobStore.close(), secretStore.close(), telemetry.close()]);
      await store.close();
    },
  };
}

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

let services: Services | undefined;

/** The worker's services, built on first use from process.env; a bad setting throws ConfigError naming it. */
export function getServices(): Services {
  services ??= createServices(loadConfig());
  return services;
}

/** For tests and the local host: use these services instead of building from process.env. */
export function setServices(next: Services | undefined): void {
  services = next;
}

export async function disposeServices(): Promise<void> {
  const current = services;
  services = undefined;
  await current?.close();
}

/** The file store, the secret store and telemetry of the configured kinds; one Azure credential for both clients. */
function buildFilesSecretsTelemetry(
  config: BridgeConfig,
  clock: Clock,
  overrides: Overrides,
): { blobStore: BlobStore; secretStore: SecretStore; telemetry: Telemetry } {
  let credential: TokenCredential | undefined;
  const azureCredential = () => (credential ??= new (azureAdapters.identity().DefaultAzureCredential)());
  const files = config.files;
  const blobStore =
    overrides.blobStore ??
    (files.kind === 'azure'
      ? azureAdapters
          .blob()
          .openAzureBlobStore(
            azureAdapters
              .blob()
              .createBlobServiceClient(
                files.connectionString
                  ? { connectionString: files.connectionString }
                  : { endpoint: files.endpoint, credential: azureCredential() },
              ),
            files.container,
          )
      : openFileBlobStore(config.store.dataDir, { clock, durability: config.store.durability }));
  const secrets = config.secrets;
  const secretStore =
    overrides.secretStore ??
    (secrets.kind === 'keyvault'
      ? new (azureAdapters.keyVault().KeyVaultSecretStore)({
          vaultUrl: secrets.vaultUri,
          credential: azureCredential(),
          cacheSeconds: secrets.cacheSeconds,
          clock,
        })
      : new SettingsSecretStore({
          dataDir: config.store.dataDir,
          settingValues: secrets.settingValues,
          clock,
        }));
  // With local auth off on Application Insights, telemetry is sent with the identity (Entra).
  const entra = config.telemetry.connectionString ? config.telemetry.entra : undefined;
  const telemetryCredential = entra
    ? entra.clientId
      ? new (azureAdapters.identity().DefaultAzureCredential)({ managedIdentityClientId: entra.clientId })
      : azureCredential()
    : undefined;
  const telemetry =
    overrides.telemetry ??
    createTelemetry(
      config.telemetry.connectionString,
      undefined,
      telemetryCredential ? { credential: telemetryCredential } : {},
    );
  return { blobStore, secretStore, telemetry };
}
