import type { BridgeConfig } from './config';
import { loadConfig } from './config';
import { NodeWebhookTransport } from './adapters/http/node-webhook-transport';
import { createServiceBusClient, ServiceBusMessageSender } from './adapters/azure/service-bus-sender';
import { openEmbeddedBus, type EmbeddedBus } from './adapters/embedded/embedded-bus';
import { openSqliteDocumentStore } from './adapters/embedded/sqlite-document-store';
import { BUS_TOPOLOGY } from './domain/bus-topology';
import { systemClock, type Clock } from './ports/clock';
import type { DocumentStore } from './ports/document-store';
import type { MessageSender } from './ports/message-sender';
import type { WebhookTransport } from './ports/webhook-transport';
import { ApiKeyService } from './services/api-key-service';
import { CommandService } from './services/command-service';
import { EventLog } from './services/event-log';
import { EventMetrics } from './services/event-metrics';
import type { OutboxItem } from './services/event-outbox';
import { EventPropagator } from './services/event-propagator';
import { HealthService } from './services/health-service';
import { LockstepService } from './services/lockstep-service';
import { PublishService } from './services/publish-service';
import { StateService } from './services/state-service';
import { SyncMetrics } from './services/sync-metrics';
import { SyncService } from './services/sync-service';
import { WebhookService } from './services/webhook-service';

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
  propagator: EventPropagator;
  events: EventLog;
  publisher: PublishService;
  webhooks: WebhookService;
  commands: CommandService;
  lockstep: LockstepService;
  close(): Promise<void>;
}

export interface Overrides {
  clock?: Clock;
  store?: DocumentStore;
  bus?: MessageSender;
  webhookTransport?: WebhookTransport;
}

/** Composition root: config → adapters → services. Builds every client exactly once. */
export function createServices(config: BridgeConfig, overrides: Overrides = {}): Services {
  const clock = overrides.clock ?? systemClock;
  const container = config.store.container;
  const store = overrides.store ?? openSqliteDocumentStore(config.store.dataDir, { durability: config.store.durability, clock });
  let embeddedBus: EmbeddedBus | undefined;
  let closeBusClient = async () => undefined as void;
  let bus = overrides.bus;
  if (!bus && config.bus.kind === 'servicebus') {
    // The SDK's default 30 s between retries would stall a sync's fast path; the change feed and
    // the sweeper retry on their own schedule anyway.
    const client = createServiceBusClient({
      fullyQualifiedNamespace: config.bus.fullyQualifiedNamespace,
      connectionString: config.bus.connectionString,
      clientOptions: { retryOptions: { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 } },
    });
    bus = new ServiceBusMessageSender(client);
    closeBusClient = () => client.close();
  } else if (!bus) {
    embeddedBus = openEmbeddedBus(config.store.dataDir, BUS_TOPOLOGY, { durability: config.store.durability, clock });
    bus = embeddedBus;
  }
  const transport = overrides.webhookTransport ?? new NodeWebhookTransport(config.webhooks.allowPrivateAddresses);

  const syncMetrics = new SyncMetrics(clock);
  const eventMetrics = new EventMetrics();
  const propagator = new EventPropagator(store, container, bus, clock, eventMetrics, config.events.retentionSeconds);
  const events = new EventLog(store, container, clock);
  // Commits notify the lockstep monitor and, on the fast path, publish at once; the change feed
  // and the sweeper remain the guarantee, so a failure here only costs latency.
  let lockstep: LockstepService | undefined;
  const onCommit = (items: OutboxItem[]) => {
    lockstep?.noteCommitted(items);
    if (config.events.fastPath) {
      propagator.propagate(items).catch((error: unknown) => console.warn(`fast-path publish failed (the change feed will retry): ${String(error)}`));
    }
  };
  const retention = config.events.retentionSeconds;
  const sync = new SyncService(store, container, clock, syncMetrics, { ...config.sync, eventRetentionSeconds: retention }, onCommit);
  const state = new StateService(store, container, clock, { maxRetries: config.sync.maxRetries, eventRetentionSeconds: retention }, onCommit);
  const publisher = new PublishService(store, container, clock, retention, onCommit);
  lockstep = new LockstepService(store, container, clock, sync, events, propagator, eventMetrics, config.events.sweepGraceSeconds * 1000);

  return {
    config,
    clock,
    store,
    bus,
    embeddedBus,
    syncMetrics,
    eventMetrics,
    propagator,
    events,
    sync,
    state,
    publisher,
    lockstep,
    apiKeys: new ApiKeyService(store, container, clock, config.adminKey, config.auth.cacheSeconds),
    health: new HealthService(store, clock),
    webhooks: new WebhookService(store, container, bus, transport, clock, config.webhooks, (m) => console.warn(m)),
    commands: new CommandService(store, container, bus, clock, sync, publisher),
    close: async () => {
      if (transport instanceof NodeWebhookTransport) transport.close();
      await bus.close();
      await closeBusClient();
      await store.close();
    },
  };
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
