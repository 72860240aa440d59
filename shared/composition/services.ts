import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import type { BridgeConfig } from '../config';
import { SecretSealer } from '../services/secret-sealer';
import type { EmbeddedBus } from '../adapters/embedded/embedded-bus';
import type { Clock } from '../ports/clock';
import type { DocumentStore } from '../ports/document-store';
import type { MessageSender } from '../ports/message-sender';
import type { StaticAssets } from '../ports/static-assets';
import type { Telemetry } from '../ports/telemetry';
import { ProfileLocationIndex } from '../services/analysis-market-service';
import { AnalysisService } from '../services/analysis-service';
import { ApiKeyService } from '../services/api-key-service';
import { ApplicationService } from '../services/application-service';
import { CandidateService } from '../services/candidate-service';
import { CareerService } from '../services/career-service';
import { JobPostingsService } from '../services/job-postings-service';
import { ProfileSkillsService } from '../services/profile-skills-service';
import { ProviderGateway } from '../services/provider-gateway';
import { ResumeService } from '../services/resume-service';
import { SkillCatalog } from '../services/skill-catalog';
import { TextAnalyticsService } from '../services/text-analytics-service';
import { ClusterMetricsService } from '../services/cluster-metrics-service';
import { CommandService } from '../services/command-service';
import { CommitFeed } from '../services/commit-feed';
import { EventLog } from '../services/event-log';
import type { EventMetrics } from '../services/event-metrics';
import type { EventLimits, OutboxItem } from '../services/event-outbox';
import { ChangeFeedIntake } from '../services/change-feed-intake';
import { EventPropagator } from '../services/event-propagator';
import { EventStreamHub } from '../services/event-stream-hub';
import { StreamTicketService } from '../services/stream-ticket-service';
import { RealtimeService } from '../services/realtime-service';
import type { EventPublisher } from '../services/event-publisher';
import { EventQuarantine, QuarantineAdmin } from '../services/event-quarantine';
import { OutboxEventTopic } from '../services/outbox-event-topic';
import { WriteAdmission } from '../services/write-admission';
import { FileService } from '../services/file-service';
import { HealthService } from '../services/health-service';
import { IdentityService } from '../services/identity-service';
import { JobTitleService } from '../services/job-title-service';
import { LockstepService } from '../services/lockstep-service';
import { MarketPostingsService } from '../services/market-postings-service';
import { METERED_OPERATIONS, MeteringService } from '../services/metering-service';
import { ProviderHealthService } from '../services/provider-health-service';
import { ProviderLockService, lockPolicyFor } from '../services/provider-lock-service';
import { PublishService } from '../services/publish-service';
import { RateLimitService } from '../services/rate-limit-service';
import { guardedRoleLookup } from '../services/role-lookup';
import { SecretService } from '../services/secret-service';
import { StateService } from '../services/state-service';
import type { SyncMetrics } from '../services/sync-metrics';
import { SyncService } from '../services/sync-service';
import { TelemetryEventMetrics, TelemetrySyncMetrics } from '../services/telemetry-instruments';
import { TokenService } from '../services/token-service';
import { UsageService } from '../services/usage-service';
import { WebhookService } from '../services/webhook-service';
import { WebhookAttemptLog } from '../services/webhook-attempt-log';
import { AdminOperations, type AdminServices } from '../services/admin/admin-operations';
import { AdminUsersService } from '../services/admin/admin-users-service';
import { AiAdminService } from '../services/admin/ai-admin-service';
import { AnalyticsService } from '../services/admin/analytics-service';
import { BatchService } from '../services/admin/batch-service';
import { TransferService } from '../services/admin/transfer-service';
import type { Adapters } from './adapters';
import type { Shutdown } from './shutdown';

export interface Services {
  config: BridgeConfig;
  clock: Clock;
  store: DocumentStore;
  /** The outgoing side of the bus (Service Bus or the embedded bus). */
  bus: MessageSender;
  /** Set when the bus is the embedded one: the local host receives from it to drive triggers. */
  embeddedBus?: EmbeddedBus;
  apiKeys: ApiKeyService;
  /** Who is calling: API keys and OIDC bearer tokens. */
  identity: IdentityService;
  /** Requests per principal, route group and status class per hour (in memory, flushed periodically). */
  usage: UsageService;
  /** Rate limits per principal and class (429 over the limit). */
  rateLimits: RateLimitService;
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
  /** Events the bus or a consumer refused, set aside: the admins' list, redelivery and dismissal. */
  quarantine: QuarantineAdmin;
  /** Backpressure for event-producing writes (outbox topic only). */
  admission?: WriteAdmission;
  /** The change-feed trigger's use case (events-changefeed): event documents → the bus. */
  changeFeed: ChangeFeedIntake;
  events: EventLog;
  /** The shared tail feeding every open event stream of this instance (GET /api/events/stream). */
  streams: EventStreamHub;
  /** Short-lived tickets that open an event stream without headers (browsers' EventSource). */
  streamTickets: StreamTicketService;
  /** Realtime push through Web PubSub; set only when BRIDGE_REALTIME=webpubsub. */
  realtime?: RealtimeService;
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
  /** Skills normalised against the taxonomy in use. */
  skills: SkillCatalog;
  /** Resumes: files, extracted text, sections, skills, language. */
  resumes: ResumeService;
  /** Profile skills added and removed through the sync merge rules. */
  profileSkills: ProfileSkillsService;
  /** A user as the career services see them (profile + latest resume). */
  candidates: CandidateService;
  /** Career recommendations, pathways and coaching sessions. */
  career: CareerService;
  /** Job postings as documents: import, search, matches. */
  jobPostings: JobPostingsService;
  /** Job applications and their state machine. */
  applications: ApplicationService;
  /** Text analytics through the provider lock, or local libraries. */
  textAnalytics: TextAnalyticsService;
  /** Metered operations: balance check, compute, charge and record, idempotent replay. */
  metering: MeteringService;
  /** Admin operations (issue 14): users, batches, export/import, analytics, AI admin. */
  admin: AdminServices;
  /** This instance (process) of the bridge, as the cluster metrics and the monitors name it. */
  instanceId: string;
  /** Metrics across instances: this instance's published snapshot, and every live one's merged. */
  clusterMetrics: ClusterMetricsService;
  /** The providers-check timer's work: a cheap call to each configured AI provider. */
  providerHealth: ProviderHealthService;
  /** The built web pages the bridge serves (admin dashboard, API docs). */
  assets: StaticAssets;
  /** Closes everything in the shutdown order (shutdown.ts). */
  close(): Promise<void>;
}

/** Adapters → services: every service gets the store bound to the bridge's container. */
export function buildServices(
  config: BridgeConfig,
  adapters: Adapters,
  shutdown: Shutdown,
): Omit<Services, 'close'> {
  const { clock, store, bus, telemetry } = adapters;
  const docs = store.collection(config.store.container);
  const retention = config.events.retentionSeconds;

  const syncMetrics = new TelemetrySyncMetrics(clock, telemetry);
  const eventMetrics = new TelemetryEventMetrics(telemetry);
  const warn = (message: string) => console.warn(message);
  const events = new EventLog(docs, clock, { retentionSeconds: retention });
  const streams = new EventStreamHub({
    log: events,
    pollMs: config.stream.pollMs,
    recentEvents: config.stream.replayEvents,
    maxStreams: config.stream.maxConnections,
    warn,
  });
  // Open streams end first (each with its closing frame), before anything they read from closes.
  shutdown.add('intake', 'event streams', () => streams.close());
  const limits: EventLimits = { retentionSeconds: retention, maxEventBytes: config.events.maxEventBytes };
  const quarantine = new EventQuarantine(docs, clock, retention);
  // Every commit notification fans out from here: the fast path (bus) or the topic's consumers
  // (outbox), the lockstep monitor, and whoever subscribes through `services.commits`. The durable
  // paths (change feed and sweeper, or the outbox topic's checkpoint) cover what a listener misses.
  const commits = new CommitFeed(warn);
  const onCommit = (items: OutboxItem[]) => commits.publish(items);
  // The event streams' shared tail reads the log at once instead of at its next poll.
  commits.subscribe(() => streams.notifyCommitted());
  const webhookAttempts = new WebhookAttemptLog(docs, retention, warn);
  // Deliveries have finished (drain): their attempts are written before the store closes.
  shutdown.add('clients', 'webhook attempt log', () => webhookAttempts.flush());
  const webhooks = new WebhookService({
    store: docs,
    sender: bus,
    transport: adapters.webhookTransport,
    clock,
    options: config.webhooks,
    sealer: new SecretSealer(adapters.secretStore, () => clock.now()),
    attempts: webhookAttempts,
    eventLimits: limits,
    onCommit,
    log: warn,
  });
  let propagator: EventPublisher;
  let outboxTopic: OutboxEventTopic | undefined;
  let admission: WriteAdmission | undefined;
  if (config.events.topic === 'outbox') {
    const topic = new OutboxEventTopic({
      store: docs,
      leases: store.collection(config.triggers.COSMOS_LEASE_CONTAINER),
      clock,
      metrics: eventMetrics,
      quarantine,
      log: events,
      maxQueued: config.events.backlogMax,
      onProgress: () => admission?.progress(),
      warn,
    });
    // Events wait for the topic's consumers, or for a webhook subscription's POSTs (live attempts).
    const pressure = {
      backlog: () => topic.backlog(),
      lagMs: () => Math.max(topic.lagMs(), webhooks.lagMs()),
    };
    admission = new WriteAdmission(pressure, {
      backlogMax: config.events.backlogMax,
      lagMaxMs: config.events.maxLagMs,
      waitMs: config.events.backpressureWaitMs,
    });
    commits.subscribe((items) => topic.publishSoon(items));
    propagator = outboxTopic = topic;
  } else {
    const busPropagator = new EventPropagator({
      store: docs,
      sender: bus,
      clock,
      metrics: eventMetrics,
      retentionSeconds: retention,
      log: events,
      quarantine,
      warn,
    });
    if (config.events.fastPath) commits.subscribe((items) => busPropagator.publishSoon(items));
    propagator = busPropagator;
  }
  // In-flight publications (bus) or deliveries (outbox consumers) finish before the bus closes.
  shutdown.add('drain', 'event propagator', () => propagator.drain());
  const sync = new SyncService({
    store: docs,
    clock,
    metrics: syncMetrics,
    options: { ...config.sync, events: limits, ...(admission ? { admission } : {}) },
    onCommit,
  });
  const state = new StateService({
    store: docs,
    clock,
    maxRetries: config.sync.maxRetries,
    events: limits,
    ...(admission ? { admission } : {}),
    onCommit,
  });
  const publisher = new PublishService({
    store: docs,
    clock,
    events: limits,
    onCommit,
    ...(admission ? { admission } : {}),
  });
  // The lock lives in the store so every instance agrees on it.
  const providerLock = new ProviderLockService(
    docs,
    clock,
    lockPolicyFor(config.ai, adapters.chatModels.keys()),
  );
  const jobTitles = new JobTitleService({
    store: docs,
    clock,
    taxonomyWorker: adapters.taxonomyWorker,
    computeWorker: adapters.computeWorker,
  });
  const skills = new SkillCatalog(jobTitles, adapters.builtInTaxonomy);
  const analysis = new AnalysisService({
    lock: providerLock,
    models: adapters.chatModels,
    // The taxonomy in use (built-in or imported), looked up on the compute worker.
    roles: guardedRoleLookup((role) => jobTitles.describeRole(role)),
    compute: adapters.computeWorker,
    priors: config.analysis.rolePriors,
    publisher,
    locations: new ProfileLocationIndex(docs, clock),
    normalizeSkills: async (raw) => (await skills.normalize(raw)).map((s) => s.skill),
  });
  const lockstep = new LockstepService({
    store: docs,
    clock,
    sync,
    propagator,
    metrics: eventMetrics,
    graceMs: config.events.sweepGraceSeconds * 1000,
    quarantine,
    monitor: config.monitors.lockstep,
  });
  commits.subscribe((items) => lockstep.noteCommitted(items));
  const tokens = new TokenService({ store: docs, clock, events: limits, onCommit });
  const commands = new CommandService({ store: docs, sender: bus, clock, sync, publisher, analysis });
  const admin = buildAdminServices(config, adapters, {
    docs,
    sync,
    jobTitles,
    analysis,
    providerLock,
    commands,
  });
  const files = new FileService(adapters.blobStore, { maxBytes: config.files.maxBytes });
  const gateway = new ProviderGateway(providerLock, adapters.chatModels);
  const resumes = new ResumeService({
    store: docs,
    clock,
    files,
    text: adapters.textProcessor,
    skills,
    options: { maxBytes: config.career.resumeMaxBytes, events: limits },
    onCommit,
  });
  const candidates = new CandidateService({ sync, resumes, skills });
  const jobPostings = new JobPostingsService({
    store: docs,
    clock,
    skills,
    gazetteer: adapters.gazetteer,
    maxPostings: config.career.postingsMax,
  });
  const instanceId = newInstanceId();
  const clusterMetrics = new ClusterMetricsService({
    store: docs,
    clock,
    instanceId,
    sync: syncMetrics,
    events: eventMetrics,
    tokens: tokens.metrics,
    tokenOperations: METERED_OPERATIONS,
    options: config.metrics,
    log: (m) => console.warn(m),
  });
  // A stopping instance publishes its final figures before the store closes.
  shutdown.add('drain', 'metrics publisher', () => clusterMetrics.stop());
  const apiKeys = new ApiKeyService({
    store: docs,
    clock,
    bootstrapAdminKey: config.adminKey,
    cacheSeconds: config.auth.cacheSeconds,
  });
  const usage = new UsageService({
    store: docs,
    clock,
    flushSeconds: config.usage.flushSeconds,
    retentionSeconds: config.usage.retentionSeconds,
    log: (m) => console.warn(m),
  });
  usage.start();
  // The last counts are written while the store is still open.
  shutdown.add('drain', 'usage counts', () => usage.close());

  return {
    config,
    clock,
    store,
    bus,
    ...(adapters.embeddedBus ? { embeddedBus: adapters.embeddedBus } : {}),
    syncMetrics,
    eventMetrics,
    commits,
    propagator,
    ...(outboxTopic ? { outboxTopic } : {}),
    quarantine: new QuarantineAdmin(quarantine, propagator),
    ...(admission ? { admission } : {}),
    changeFeed: new ChangeFeedIntake(adapters.changeFeedDecoder, propagator),
    events,
    streams,
    streamTickets: new StreamTicketService(config.adminKey, clock, config.stream.ticketSeconds),
    ...(adapters.realtime && config.realtime.kind === 'webpubsub'
      ? { realtime: new RealtimeService(adapters.realtime, events, config.realtime.tokenMinutes) }
      : {}),
    sync,
    state,
    publisher,
    lockstep,
    files,
    secrets: new SecretService(adapters.secretStore),
    telemetry,
    providerLock,
    analysis,
    apiKeys,
    identity: new IdentityService({
      apiKeys,
      ...(adapters.tokenVerifier ? { tokens: adapters.tokenVerifier } : {}),
      userClaim: config.auth.tokens?.userClaim ?? 'sub',
    }),
    usage,
    rateLimits: new RateLimitService({ store: docs, clock, rules: config.rateLimits }),
    health: new HealthService(store, clock),
    webhooks,
    commands,
    admin,
    jobTitles,
    marketPostings: new MarketPostingsService(docs, clock, jobTitles),
    tokens,
    metering: new MeteringService({ tokens, costs: config.tokens.costs }),
    skills,
    resumes,
    profileSkills: new ProfileSkillsService({ sync, skills }),
    candidates,
    career: new CareerService({ store: docs, clock, candidates, titles: jobTitles, gateway }),
    jobPostings,
    applications: new ApplicationService({
      store: docs,
      clock,
      postings: jobPostings,
      events: limits,
      onCommit,
    }),
    textAnalytics: new TextAnalyticsService({ gateway, text: adapters.textProcessor }),
    instanceId,
    clusterMetrics,
    providerHealth: new ProviderHealthService({ lock: providerLock, models: adapters.chatModels, clock }),
    assets: adapters.staticAssets,
  };
}

/** The admin services (issue 14), attached to the command processor as its extensions. */
function buildAdminServices(
  config: BridgeConfig,
  adapters: Adapters,
  parts: {
    docs: ReturnType<DocumentStore['collection']>;
    sync: SyncService;
    jobTitles: JobTitleService;
    analysis: AnalysisService;
    providerLock: ProviderLockService;
    commands: CommandService;
  },
): AdminServices {
  const { docs, sync, jobTitles, analysis, providerLock, commands } = parts;
  const { clock } = adapters;
  const log = (message: string) => console.warn(message);
  const services = {
    users: new AdminUsersService(docs, sync),
    batches: new BatchService({
      store: docs,
      clock,
      commands,
      options: {
        maxItems: config.admin.batchMaxItems,
        concurrency: config.admin.batchConcurrency,
        stallMs: config.admin.jobStallMs,
      },
    }),
    transfers: new TransferService({
      store: docs,
      blobs: adapters.blobStore,
      clock,
      sync,
      commands,
      options: {
        linkSeconds: config.admin.exportLinkSeconds,
        importMaxLines: config.admin.importMaxLines,
        stallMs: config.admin.jobStallMs,
      },
      log,
    }),
    analytics: new AnalyticsService({
      store: docs,
      decode: adapters.changeFeedDecoder,
      clock,
      jobTitles,
      eventRetentionSeconds: config.events.retentionSeconds,
      feedPollDelayMs: config.triggers.BRIDGE_FEED_POLL_DELAY_MS,
    }),
    ai: new AiAdminService({
      sync,
      jobTitles,
      blobs: adapters.blobStore,
      analysis,
      lock: providerLock,
      models: adapters.chatModels,
      text: adapters.textProcessor,
      cvMaxBytes: config.career.resumeMaxBytes,
    }),
  };
  const operations = new AdminOperations(services, {
    store: docs,
    clock,
    commands,
    stallMs: config.admin.jobStallMs,
  });
  commands.extend(operations);
  return { ...services, operations };
}

/** Unique per process: the host (on Azure, one instance), the process, and a random part for restarts. */
function newInstanceId(): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 100) || 'host';
  return `${host}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
