import { z } from 'zod';
import { parseRolePriors, RolePriorsError, type BetaParams } from './domain/analysis/bayesian';
import { DEFAULT_PROVIDER_ORDER, HEURISTIC_PROVIDER } from './domain/analysis/provider-lock';
import { isHttpsOrLoopback } from './domain/loopback-url';
import { parseRateRules, RateRulesError, type RateRules } from './domain/rate-limit-rules';

/**
 * Every setting the bridge reads, in one schema. Config is parsed once at start-up and a bad or
 * missing setting fails fast with its name, instead of surfacing later as a confusing 500.
 * Each setting is documented in local.settings.example.json and README.md.
 */

const boolSetting = z
  .enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'on' || v === 'yes');

const intSetting = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const listSetting = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

const aiUrlSetting = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const aiKeySetting = z.string().min(1).max(1000);
/** A Key Vault secret name: 1-127 letters, digits and dashes. */
const aiSecretNameSetting = z
  .string()
  .regex(/^[0-9A-Za-z-]{1,127}$/, 'expected a Key Vault secret name (letters, digits, -)');
const aiModelSetting = z.string().min(1).max(200);

const ncrontabSetting = z
  .string()
  .regex(/^\S+( \S+){5}$/, 'expected a six-field NCRONTAB expression, e.g. 0 */5 * * * *');
/** An https URL, or http on a loopback address (an issuer or key set: tests, local development). */
const authUrlSetting = z.string().refine(
  (text) => {
    try {
      return isHttpsOrLoopback(new URL(text));
    } catch {
      return false;
    }
  },
  { error: 'expected an https URL (plain http only on a loopback address)' },
);
const rateRulesSetting = z.string().transform((text, ctx) => {
  try {
    return parseRateRules(text);
  } catch (error) {
    if (!(error instanceof RateRulesError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

/** Settings the function files need at registration time (trigger options), before any request. */
const triggerSettingsSchema = z.object({
  COSMOS_DATABASE: z.string().min(1).default('portal-bridge'),
  COSMOS_CONTAINER: z.string().min(1).default('state'),
  COSMOS_LEASE_CONTAINER: z.string().min(1).default('leases'),
  BRIDGE_FEED_POLL_DELAY_MS: intSetting(10, 60_000).default(250),
  BRIDGE_FEED_MAX_ITEMS: intSetting(1, 10_000).default(100),
  BRIDGE_SWEEP_SCHEDULE: ncrontabSetting.default('*/10 * * * * *'),
  // Health monitor timers (issue 13): the lockstep probe and the AI provider check.
  BRIDGE_LOCKSTEP_MONITOR_SCHEDULE: ncrontabSetting.default('0 * * * * *'),
  BRIDGE_PROVIDER_CHECK_SCHEDULE: ncrontabSetting.default('0 */5 * * * *'),
});

const settingsSchema = triggerSettingsSchema.extend({
  BRIDGE_ADMIN_KEY: z
    .string()
    .min(24, 'must be at least 24 characters (generate one with: openssl rand -base64 32)'),
  BRIDGE_STORE: z.enum(['embedded', 'cosmos']).default('embedded'),
  CosmosDbConnection__accountEndpoint: z.url({ protocol: /^https$/ }).optional(),
  COSMOS_EMULATOR_KEY: z.string().min(1).optional(),
  BRIDGE_DATA_DIR: z.string().min(1).default('.data'),
  BRIDGE_DURABILITY: z.enum(['normal', 'full']).default('normal'),
  BRIDGE_PROTECTED_FIELDS: listSetting.default(['role', 'permissions', 'status']),
  BRIDGE_SYNC_MAX_RETRIES: intSetting(0, 100).default(20),
  BRIDGE_MAX_BODY_BYTES: intSetting(1024, 100 * 1024 * 1024).default(1024 * 1024),
  BRIDGE_AUTH_CACHE_SECONDS: intSetting(0, 3600).default(30),
  // Identity (issue 10): OIDC bearer tokens, usage tracking, rate limits.
  BRIDGE_AUTH_ISSUER: authUrlSetting.optional(),
  BRIDGE_AUTH_JWKS_URL: authUrlSetting.optional(),
  BRIDGE_AUTH_AUDIENCE: listSetting
    .pipe(z.array(z.string().min(1).max(500)).min(1, 'must name at least one audience').max(10))
    .optional(),
  BRIDGE_AUTH_USER_CLAIM: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'expected a claim name such as sub or oid')
    .default('sub'),
  BRIDGE_AUTH_CLOCK_SKEW_SECONDS: intSetting(0, 300).default(60),
  BRIDGE_AUTH_JWKS_CACHE_SECONDS: intSetting(60, 86_400).default(600),
  BRIDGE_AUTH_JWKS_COOLDOWN_SECONDS: intSetting(0, 3600).default(30),
  BRIDGE_USAGE_FLUSH_SECONDS: intSetting(1, 3600).default(60),
  BRIDGE_USAGE_RETENTION_DAYS: intSetting(1, 3650).default(90),
  BRIDGE_RATE_LIMITS_END_USER: rateRulesSetting.default(parseRateRules('ai=100/h,write=120/m,read=600/m')),
  BRIDGE_RATE_LIMITS_KEY: rateRulesSetting.default(parseRateRules('ai=100/h')),
  BRIDGE_BUS: z.enum(['embedded', 'servicebus']).default('embedded'),
  ServiceBusConnection__fullyQualifiedNamespace: z.string().min(1).optional(),
  ServiceBusConnection: z.string().min(1).optional(),
  BRIDGE_EVENTS_FAST_PATH: boolSetting.default(true),
  BRIDGE_EVENT_TOPIC: z.enum(['outbox', 'bus']).optional(),
  // 192 KiB: a Service Bus Standard message holds 256 KiB with its headers and properties; the rest
  // is headroom for the sequence, the application properties and the webhook retry wrapper.
  BRIDGE_MAX_EVENT_BYTES: intSetting(1024, 100 * 1024 * 1024).default(192 * 1024),
  BRIDGE_EVENT_BACKLOG_MAX: intSetting(1, 1_000_000).default(512),
  BRIDGE_EVENT_MAX_LAG_MS: intSetting(1, 600_000).default(100),
  BRIDGE_BACKPRESSURE_WAIT_MS: intSetting(0, 60_000).default(2_000),
  BRIDGE_SWEEP_GRACE_SECONDS: intSetting(1, 86_400).default(10),
  BRIDGE_EVENT_RETENTION_DAYS: intSetting(1, 3650).default(7),
  BRIDGE_WEBHOOK_MAX_ATTEMPTS: intSetting(1, 100).default(8),
  BRIDGE_WEBHOOK_MAX_AGE_SECONDS: intSetting(60, 30 * 86_400).default(86_400),
  BRIDGE_WEBHOOK_BACKOFF_BASE_MS: intSetting(10, 3_600_000).default(1000),
  BRIDGE_WEBHOOK_TIMEOUT_MS: intSetting(100, 120_000).default(5000),
  BRIDGE_WEBHOOK_ALLOW_PRIVATE: boolSetting.default(false),
  /** A subscription failing continuously this long is disabled (0: never). */
  BRIDGE_WEBHOOK_DISABLE_AFTER_SECONDS: intSetting(0, 365 * 86_400).default(432_000),
  // AI analysis (issue 5): OpenAI-compatible providers, the provider lock, Bayesian priors.
  AI_PROVIDER_ORDER: listSetting.default([...DEFAULT_PROVIDER_ORDER]),
  AI_OPENAI_BASE_URL: aiUrlSetting.default('https://api.openai.com/v1'),
  AI_OPENAI_API_KEY: aiKeySetting.optional(),
  AI_OPENAI_API_KEY_SECRET: aiSecretNameSetting.optional(),
  AI_OPENAI_MODEL: aiModelSetting.optional(),
  AI_OPENAI_EMBEDDING_MODEL: aiModelSetting.optional(),
  AI_AZURE_OPENAI_BASE_URL: aiUrlSetting.optional(),
  AI_AZURE_OPENAI_API_KEY: aiKeySetting.optional(),
  AI_AZURE_OPENAI_API_KEY_SECRET: aiSecretNameSetting.optional(),
  AI_AZURE_OPENAI_MODEL: aiModelSetting.optional(),
  AI_AZURE_OPENAI_EMBEDDING_MODEL: aiModelSetting.optional(),
  AI_GEMINI_BASE_URL: aiUrlSetting.default('https://generativelanguage.googleapis.com/v1beta/openai/'),
  AI_GEMINI_API_KEY: aiKeySetting.optional(),
  AI_GEMINI_API_KEY_SECRET: aiSecretNameSetting.optional(),
  AI_GEMINI_MODEL: aiModelSetting.optional(),
  AI_GEMINI_EMBEDDING_MODEL: aiModelSetting.optional(),
  AI_GROQ_BASE_URL: aiUrlSetting.default('https://api.groq.com/openai/v1'),
  AI_GROQ_API_KEY: aiKeySetting.optional(),
  AI_GROQ_API_KEY_SECRET: aiSecretNameSetting.optional(),
  AI_GROQ_MODEL: aiModelSetting.optional(),
  AI_GROQ_EMBEDDING_MODEL: aiModelSetting.optional(),
  AI_CLOUDFLARE_BASE_URL: aiUrlSetting.optional(),
  AI_CLOUDFLARE_API_KEY: aiKeySetting.optional(),
  AI_CLOUDFLARE_API_KEY_SECRET: aiSecretNameSetting.optional(),
  AI_CLOUDFLARE_MODEL: aiModelSetting.optional(),
  AI_CLOUDFLARE_EMBEDDING_MODEL: aiModelSetting.optional(),
  AI_HUGGINGFACE_BASE_URL: aiUrlSetting.default('https://router.huggingface.co/v1'),
  AI_HUGGINGFACE_API_KEY: aiKeySetting.optional(),
  AI_HUGGINGFACE_API_KEY_SECRET: aiSecretNameSetting.optional(),
  AI_HUGGINGFACE_MODEL: aiModelSetting.optional(),
  AI_HUGGINGFACE_EMBEDDING_MODEL: aiModelSetting.optional(),
  AI_TIMEOUT_MS: intSetting(100, 600_000).default(30_000),
  AI_FAILURE_THRESHOLD: intSetting(1, 100).default(3),
  AI_RATE_LIMIT_THRESHOLD: intSetting(1, 100).default(3),
  AI_COOLDOWN_SECONDS: intSetting(0, 86_400).default(300),
  BRIDGE_BAYES_PRIORS: z.string().optional(),
  // Job-title intelligence and tokens (issue 6): what each metered operation costs.
  BRIDGE_TOKEN_COST_WORD_CLOUD: intSetting(0, 1_000_000).default(5),
  BRIDGE_TOKEN_COST_ANALYZE_TITLE: intSetting(0, 1_000_000).default(7),
  BRIDGE_TOKEN_COST_PATHWAYS: intSetting(0, 1_000_000).default(7),
  BRIDGE_TOKEN_COST_MARKET: intSetting(0, 1_000_000).default(7),
  BRIDGE_TOKEN_COST_RELATIONSHIPS: intSetting(0, 1_000_000).default(5),
  // Career services (issue 15): new metered operations, resumes, postings, the text worker pool.
  BRIDGE_TOKEN_COST_CAREER_RECOMMENDATIONS: intSetting(0, 1_000_000).default(7),
  BRIDGE_TOKEN_COST_COACHING: intSetting(0, 1_000_000).default(10),
  BRIDGE_RESUME_MAX_BYTES: intSetting(1024, 50 * 1024 * 1024).default(5 * 1024 * 1024),
  BRIDGE_JOB_POSTINGS_MAX: intSetting(1, 100_000).default(5000),
  BRIDGE_TEXT_WORKER_THREADS: intSetting(1, 16).default(1),
  BRIDGE_TEXT_WORKER_TIMEOUT_MS: intSetting(1000, 300_000).default(20_000),
  // Metrics across instances and the health monitors (issue 13).
  BRIDGE_METRICS_PUBLISH_SECONDS: intSetting(1, 3600).default(5),
  BRIDGE_METRICS_STALE_SECONDS: intSetting(2, 86_400).default(30),
  BRIDGE_METRICS_TTL_SECONDS: intSetting(10, 7 * 86_400).default(600),
  BRIDGE_LOCKSTEP_MONITOR_ENABLED: boolSetting.default(true),
  BRIDGE_PROVIDER_CHECK_ENABLED: boolSetting.default(true),
  // Files, secrets and telemetry (issue 4).
  BRIDGE_FILES: z.enum(['embedded', 'azure', 's3']).default('embedded'),
  AZURE_STORAGE_BLOB_ENDPOINT: z.url({ protocol: /^https$/, error: 'expected an https URL' }).optional(),
  BRIDGE_FILES_CONTAINER: z
    .string()
    .regex(
      /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
      'expected a blob container name (3-63 of a-z, 0-9, -)',
    )
    .default('files'),
  BRIDGE_FILES_CONNECTION_STRING: z.string().min(1).optional(),
  BRIDGE_FILES_MAX_BYTES: intSetting(1, 1024 * 1024 * 1024).default(25 * 1024 * 1024),
  // BRIDGE_FILES=s3: Amazon S3 or an S3-compatible service (not provisioned in Azure).
  BRIDGE_S3_BUCKET: z
    .string()
    .regex(
      /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'expected an S3 bucket name (3-63 of a-z, 0-9, ".", "-", starting and ending with a letter or digit)',
    )
    .optional(),
  BRIDGE_S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'expected a region name such as eu-west-1')
    .optional(),
  BRIDGE_S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  BRIDGE_S3_FORCE_PATH_STYLE: boolSetting.default(false),
  BRIDGE_SECRETS: z.enum(['embedded', 'keyvault']).default('embedded'),
  KEY_VAULT_URI: z.url({ protocol: /^https$/, error: 'expected an https URL' }).optional(),
  BRIDGE_SECRET_CACHE_SECONDS: intSetting(0, 86_400).default(300),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().optional(),
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z.string().optional(),
  // Event stream (SSE) and realtime push (issue 11).
  BRIDGE_STREAM_HEARTBEAT_SECONDS: intSetting(1, 300).default(15),
  BRIDGE_STREAM_MAX_SECONDS: intSetting(10, 86_400).default(240),
  BRIDGE_STREAM_MAX_CONNECTIONS: intSetting(1, 100_000).default(1000),
  BRIDGE_STREAM_MAX_LAG_EVENTS: intSetting(10, 1_000_000).default(1000),
  BRIDGE_STREAM_POLL_MS: intSetting(10, 60_000).default(250),
  BRIDGE_STREAM_REPLAY_EVENTS: intSetting(0, 100_000).default(2000),
  BRIDGE_STREAM_TICKET_SECONDS: intSetting(10, 3600).default(60),
  BRIDGE_REALTIME: z.enum(['off', 'webpubsub']).default('off'),
  WEBPUBSUB_ENDPOINT: z.url({ protocol: /^https$/, error: 'expected an https URL' }).optional(),
  BRIDGE_WEBPUBSUB_HUB: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,127}$/, 'expected a hub name (a letter, then letters, digits, _)')
    .default('bridge'),
  BRIDGE_REALTIME_TOKEN_MINUTES: intSetting(1, 1440).default(60),
  // Admin operations (issue 14): batches, jobs, export links, import size.
  BRIDGE_ADMIN_BATCH_MAX_ITEMS: intSetting(1, 10_000).default(1000),
  BRIDGE_ADMIN_BATCH_CONCURRENCY: intSetting(1, 64).default(8),
  BRIDGE_ADMIN_JOB_STALL_SECONDS: intSetting(2, 86_400).default(120),
  BRIDGE_ADMIN_EXPORT_LINK_SECONDS: intSetting(10, 7 * 86_400).default(900),
  BRIDGE_ADMIN_IMPORT_MAX_LINES: intSetting(1, 100_000_000).default(1_000_000),
  // Local host only (npm start); the Functions host has its own.
  PORT: intSetting(0, 65535).default(7071),
  BRIDGE_ACCESS_LOG: boolSetting.default(true),
  BRIDGE_HTTP_HEADERS_TIMEOUT_MS: intSetting(1000, 120_000).default(5_000),
  BRIDGE_HTTP_BODY_TIMEOUT_MS: intSetting(1000, 600_000).default(10_000),
});

export type Settings = z.output<typeof settingsSchema>;
export type TriggerSettings = z.output<typeof triggerSettingsSchema>;

export interface BridgeConfig {
  adminKey: string;
  store: {
    kind: 'embedded' | 'cosmos';
    dataDir: string;
    durability: 'normal' | 'full';
    container: string;
    /** With cosmos: the account endpoint, the database, and a key only for emulators. */
    cosmos?: { endpoint: string; database: string; emulatorKey?: string };
  };
  bus:
    | { kind: 'embedded' }
    | { kind: 'servicebus'; fullyQualifiedNamespace?: string; connectionString?: string };
  events: {
    fastPath: boolean;
    sweepGraceSeconds: number;
    retentionSeconds: number;
    /**
     * Where the bridge-events topic lives: 'bus' (Service Bus, or the embedded bus storing each
     * message) or 'outbox' (embedded bus only: its consumers read the store's event documents).
     */
    topic: 'outbox' | 'bus';
    /** Largest event (its CloudEvent JSON, UTF-8) a write may produce; beyond it the write is refused. */
    maxEventBytes: number;
    /** Outbox topic: events committed but not yet taken by their consumers before new writes wait. */
    backlogMax: number;
    /** Outbox topic: how long the oldest waiting event may wait before new writes wait. */
    maxLagMs: number;
    /** How long a write waits for the backlog to shrink before it is refused with 503. */
    backpressureWaitMs: number;
  };
  webhooks: {
    maxAttempts: number;
    maxAgeSeconds: number;
    backoffBaseMs: number;
    timeoutMs: number;
    allowPrivateAddresses: boolean;
    /** BRIDGE_WEBHOOK_DISABLE_AFTER_SECONDS: continuous failure before a subscription is disabled (0: never). */
    disableAfterSeconds: number;
    /** Attempt log entries live as long as events (BRIDGE_EVENT_RETENTION_DAYS). */
    retentionSeconds: number;
  };
  triggers: TriggerSettings;
  sync: { protectedFields: ReadonlySet<string>; maxRetries: number };
  http: { maxBodyBytes: number };
  auth: { cacheSeconds: number; tokens?: TokenAuthConfig };
  usage: { flushSeconds: number; retentionSeconds: number };
  /** Requests per window by class: for end users, and for keys and app-role tokens. */
  rateLimits: { endUser: RateRules; key: RateRules };
  localHost: { port: number; accessLog: boolean; headersTimeoutMs: number; bodyTimeoutMs: number };
  files:
    | { kind: 'embedded'; maxBytes: number }
    | { kind: 'azure'; maxBytes: number; container: string; endpoint?: string; connectionString?: string }
    | {
        kind: 's3';
        maxBytes: number;
        bucket: string;
        region: string;
        /** An S3-compatible service; absent for Amazon S3. */
        endpoint?: string;
        forcePathStyle: boolean;
      };
  secrets:
    | { kind: 'embedded'; settingValues: ReadonlyMap<string, string> }
    | { kind: 'keyvault'; vaultUri: string; cacheSeconds: number };
  /** Unvalidated on purpose: a malformed string disables telemetry with a warning, it never stops the bridge. */
  telemetry: { connectionString?: string; entra?: { clientId?: string } };
  ai: AiConfig;
  analysis: { rolePriors: Record<string, BetaParams> };
  /** Token cost of each metered operation. */
  tokens: { costs: TokenCosts };
  /** GET /api/events/stream (SSE). */
  stream: {
    heartbeatMs: number;
    maxDurationMs: number;
    maxConnections: number;
    maxLagEvents: number;
    pollMs: number;
    /** Newest events the shared tail keeps for resuming streams (0: every resume reads the log). */
    replayEvents: number;
    ticketSeconds: number;
  };
  /** Push through Azure Web PubSub (POST /api/realtime/negotiate, realtime-publish). */
  realtime: { kind: 'off' } | { kind: 'webpubsub'; endpoint: string; hub: string; tokenMinutes: number };
  /** Admin operations (issue 14). */
  admin: {
    batchMaxItems: number;
    batchConcurrency: number;
    jobStallMs: number;
    exportLinkSeconds: number;
    importMaxLines: number;
  };
  career: { resumeMaxBytes: number; postingsMax: number };
  /** The worker-thread pool for text extraction and local text analytics. */
  textWorkers: { threads: number; timeoutMs: number };
  /** Metrics across instances: how often each publishes its snapshot, when it counts as stale, its TTL. */
  metrics: { publishIntervalMs: number; staleAfterMs: number; ttlSeconds: number };
  /** The health monitor timers (their schedules are trigger settings). */
  monitors: {
    lockstep: { enabled: boolean; schedule: string };
    providers: { enabled: boolean; schedule: string };
  };
}

/** Bearer-token validation (on when BRIDGE_AUTH_ISSUER is set). */
export interface TokenAuthConfig {
  issuer: string;
  /** The key set; undefined = from the issuer's OIDC discovery document. */
  jwksUrl?: string;
  audience: string[];
  userClaim: string;
  clockSkewSeconds: number;
  jwksCacheSeconds: number;
  jwksCooldownSeconds: number;
}

/** The metered operations and what each costs (BRIDGE_TOKEN_COST_*). */
export interface TokenCosts {
  'word-cloud': number;
  'analyze-title': number;
  pathways: number;
  market: number;
  relationships: number;
  'career-recommendations': number;
  /** Career pathways for a user (seed: get_career_pathways) cost what `pathways` costs. */
  coaching: number;
}

/** AI providers reachable through the openai SDK (OpenAI-compatible chat completions), in setting-name form. */
export const AI_PROVIDERS = [
  'openai',
  'azure-openai',
  'gemini',
  'groq',
  'cloudflare',
  'huggingface',
] as const;
export type AiProviderName = (typeof AI_PROVIDERS)[number];

export interface AiProviderSettings {
  name: AiProviderName;
  baseUrl: string;
  model: string;
  /** The key itself (from settings; in Azure a Key Vault reference resolved by the platform) … */
  apiKey?: string;
  /** … or the name of a Key Vault secret holding it. */
  apiKeySecret?: string;
  /** The embeddings model (AI_<NAME>_EMBEDDING_MODEL), when the provider is to answer /api/text/embeddings. */
  embeddingModel?: string;
}

export interface AiConfig {
  /** Priority order of the providers (the heuristic is always last and not listed). */
  order: AiProviderName[];
  /** Providers with a key (or secret) and a model; the others are skipped. */
  providers: AiProviderSettings[];
  timeoutMs: number;
  failureThreshold: number;
  rateLimitThreshold: number;
  cooldownMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: { setting: string; message: string }[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.setting}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** The setting names config.ts reads; the agreement test checks docs and infra against it. */
export const SETTING_NAMES = Object.keys(settingsSchema.shape) as (keyof Settings)[];

function parseSettings<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  // Empty strings count as unset, so `KEY=` in a settings file falls back to the default.
  const raw: Record<string, string> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') raw[name] = value.trim();
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        setting: String(issue.path[0] ?? '(settings)'),
        message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
      })),
    );
  }
  return parsed.data;
}

/** Trigger options for app.cosmosDB / app.timer registrations; never needs secrets. */
export function loadTriggerSettings(env: NodeJS.ProcessEnv = process.env): TriggerSettings {
  return parseSettings(triggerSettingsSchema, env);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const s = parseSettings(settingsSchema, env);
  if (s.BRIDGE_STORE === 'cosmos' && !s.CosmosDbConnection__accountEndpoint) {
    throw new ConfigError([
      { setting: 'CosmosDbConnection__accountEndpoint', message: 'is required when BRIDGE_STORE=cosmos' },
    ]);
  }
  if (
    s.BRIDGE_BUS === 'servicebus' &&
    !s.ServiceBusConnection__fullyQualifiedNamespace &&
    !s.ServiceBusConnection
  ) {
    throw new ConfigError([
      {
        setting: 'ServiceBusConnection__fullyQualifiedNamespace',
        message:
          'is required when BRIDGE_BUS=servicebus (or ServiceBusConnection, a connection string, for emulators)',
      },
    ]);
  }
  if (s.BRIDGE_REALTIME === 'webpubsub' && !s.WEBPUBSUB_ENDPOINT) {
    throw new ConfigError([
      { setting: 'WEBPUBSUB_ENDPOINT', message: 'is required when BRIDGE_REALTIME=webpubsub' },
    ]);
  }
  if (s.BRIDGE_EVENT_TOPIC === 'outbox' && s.BRIDGE_BUS !== 'embedded') {
    throw new ConfigError([
      {
        setting: 'BRIDGE_EVENT_TOPIC',
        message: 'outbox works with the embedded bus only (BRIDGE_BUS=embedded); Service Bus is a real topic',
      },
    ]);
  }
  return {
    adminKey: s.BRIDGE_ADMIN_KEY,
    store: {
      kind: s.BRIDGE_STORE,
      dataDir: s.BRIDGE_DATA_DIR,
      durability: s.BRIDGE_DURABILITY,
      container: s.COSMOS_CONTAINER,
      ...(s.BRIDGE_STORE === 'cosmos'
        ? {
            cosmos: {
              endpoint: s.CosmosDbConnection__accountEndpoint as string,
              database: s.COSMOS_DATABASE,
              ...(s.COSMOS_EMULATOR_KEY ? { emulatorKey: s.COSMOS_EMULATOR_KEY } : {}),
            },
          }
        : {}),
    },
    bus:
      s.BRIDGE_BUS === 'embedded'
        ? { kind: 'embedded' }
        : {
            kind: 'servicebus',
            fullyQualifiedNamespace: s.ServiceBusConnection__fullyQualifiedNamespace,
            connectionString: s.ServiceBusConnection,
          },
    events: {
      fastPath: s.BRIDGE_EVENTS_FAST_PATH,
      sweepGraceSeconds: s.BRIDGE_SWEEP_GRACE_SECONDS,
      retentionSeconds: s.BRIDGE_EVENT_RETENTION_DAYS * 86_400,
      topic: s.BRIDGE_EVENT_TOPIC ?? (s.BRIDGE_BUS === 'embedded' ? 'outbox' : 'bus'),
      maxEventBytes: s.BRIDGE_MAX_EVENT_BYTES,
      backlogMax: s.BRIDGE_EVENT_BACKLOG_MAX,
      maxLagMs: s.BRIDGE_EVENT_MAX_LAG_MS,
      backpressureWaitMs: s.BRIDGE_BACKPRESSURE_WAIT_MS,
    },
    webhooks: {
      maxAttempts: s.BRIDGE_WEBHOOK_MAX_ATTEMPTS,
      maxAgeSeconds: s.BRIDGE_WEBHOOK_MAX_AGE_SECONDS,
      backoffBaseMs: s.BRIDGE_WEBHOOK_BACKOFF_BASE_MS,
      timeoutMs: s.BRIDGE_WEBHOOK_TIMEOUT_MS,
      allowPrivateAddresses: s.BRIDGE_WEBHOOK_ALLOW_PRIVATE,
      disableAfterSeconds: s.BRIDGE_WEBHOOK_DISABLE_AFTER_SECONDS,
      retentionSeconds: s.BRIDGE_EVENT_RETENTION_DAYS * 86_400,
    },
    triggers: {
      COSMOS_DATABASE: s.COSMOS_DATABASE,
      COSMOS_CONTAINER: s.COSMOS_CONTAINER,
      COSMOS_LEASE_CONTAINER: s.COSMOS_LEASE_CONTAINER,
      BRIDGE_FEED_POLL_DELAY_MS: s.BRIDGE_FEED_POLL_DELAY_MS,
      BRIDGE_FEED_MAX_ITEMS: s.BRIDGE_FEED_MAX_ITEMS,
      BRIDGE_SWEEP_SCHEDULE: s.BRIDGE_SWEEP_SCHEDULE,
      BRIDGE_LOCKSTEP_MONITOR_SCHEDULE: s.BRIDGE_LOCKSTEP_MONITOR_SCHEDULE,
      BRIDGE_PROVIDER_CHECK_SCHEDULE: s.BRIDGE_PROVIDER_CHECK_SCHEDULE,
    },
    sync: { protectedFields: new Set(s.BRIDGE_PROTECTED_FIELDS), maxRetries: s.BRIDGE_SYNC_MAX_RETRIES },
    http: { maxBodyBytes: s.BRIDGE_MAX_BODY_BYTES },
    auth: { cacheSeconds: s.BRIDGE_AUTH_CACHE_SECONDS, ...tokenAuthConfig(s) },
    usage: {
      flushSeconds: s.BRIDGE_USAGE_FLUSH_SECONDS,
      retentionSeconds: s.BRIDGE_USAGE_RETENTION_DAYS * 86_400,
    },
    rateLimits: { endUser: s.BRIDGE_RATE_LIMITS_END_USER, key: s.BRIDGE_RATE_LIMITS_KEY },
    localHost: {
      port: s.PORT,
      accessLog: s.BRIDGE_ACCESS_LOG,
      headersTimeoutMs: s.BRIDGE_HTTP_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: s.BRIDGE_HTTP_BODY_TIMEOUT_MS,
    },
    files: filesConfig(s),
    secrets: secretsConfig(s, env),
    telemetry: telemetryConfig(s),
    ai: aiConfig(s),
    analysis: { rolePriors: rolePriors(s.BRIDGE_BAYES_PRIORS) },
    tokens: {
      costs: {
        'word-cloud': s.BRIDGE_TOKEN_COST_WORD_CLOUD,
        'analyze-title': s.BRIDGE_TOKEN_COST_ANALYZE_TITLE,
        pathways: s.BRIDGE_TOKEN_COST_PATHWAYS,
        market: s.BRIDGE_TOKEN_COST_MARKET,
        relationships: s.BRIDGE_TOKEN_COST_RELATIONSHIPS,
        'career-recommendations': s.BRIDGE_TOKEN_COST_CAREER_RECOMMENDATIONS,
        coaching: s.BRIDGE_TOKEN_COST_COACHING,
      },
    },
    stream: {
      heartbeatMs: s.BRIDGE_STREAM_HEARTBEAT_SECONDS * 1000,
      maxDurationMs: s.BRIDGE_STREAM_MAX_SECONDS * 1000,
      maxConnections: s.BRIDGE_STREAM_MAX_CONNECTIONS,
      maxLagEvents: s.BRIDGE_STREAM_MAX_LAG_EVENTS,
      pollMs: s.BRIDGE_STREAM_POLL_MS,
      replayEvents: s.BRIDGE_STREAM_REPLAY_EVENTS,
      ticketSeconds: s.BRIDGE_STREAM_TICKET_SECONDS,
    },
    realtime:
      s.BRIDGE_REALTIME === 'webpubsub'
        ? {
            kind: 'webpubsub',
            endpoint: s.WEBPUBSUB_ENDPOINT as string,
            hub: s.BRIDGE_WEBPUBSUB_HUB,
            tokenMinutes: s.BRIDGE_REALTIME_TOKEN_MINUTES,
          }
        : { kind: 'off' },
    admin: {
      batchMaxItems: s.BRIDGE_ADMIN_BATCH_MAX_ITEMS,
      batchConcurrency: s.BRIDGE_ADMIN_BATCH_CONCURRENCY,
      jobStallMs: s.BRIDGE_ADMIN_JOB_STALL_SECONDS * 1000,
      exportLinkSeconds: s.BRIDGE_ADMIN_EXPORT_LINK_SECONDS,
      importMaxLines: s.BRIDGE_ADMIN_IMPORT_MAX_LINES,
    },
    career: { resumeMaxBytes: s.BRIDGE_RESUME_MAX_BYTES, postingsMax: s.BRIDGE_JOB_POSTINGS_MAX },
    textWorkers: { threads: s.BRIDGE_TEXT_WORKER_THREADS, timeoutMs: s.BRIDGE_TEXT_WORKER_TIMEOUT_MS },
    metrics: metricsConfig(s),
    monitors: {
      lockstep: { enabled: s.BRIDGE_LOCKSTEP_MONITOR_ENABLED, schedule: s.BRIDGE_LOCKSTEP_MONITOR_SCHEDULE },
      providers: { enabled: s.BRIDGE_PROVIDER_CHECK_ENABLED, schedule: s.BRIDGE_PROVIDER_CHECK_SCHEDULE },
    },
  };
}

/** A snapshot is stale only after at least two missed publications, and kept at least that long. */
function metricsConfig(s: Settings): BridgeConfig['metrics'] {
  const publish = s.BRIDGE_METRICS_PUBLISH_SECONDS;
  if (s.BRIDGE_METRICS_STALE_SECONDS < 2 * publish) {
    throw new ConfigError([
      {
        setting: 'BRIDGE_METRICS_STALE_SECONDS',
        message: `must be at least twice BRIDGE_METRICS_PUBLISH_SECONDS (${2 * publish})`,
      },
    ]);
  }
  if (s.BRIDGE_METRICS_TTL_SECONDS < s.BRIDGE_METRICS_STALE_SECONDS) {
    throw new ConfigError([
      {
        setting: 'BRIDGE_METRICS_TTL_SECONDS',
        message: `must be at least BRIDGE_METRICS_STALE_SECONDS (${s.BRIDGE_METRICS_STALE_SECONDS})`,
      },
    ]);
  }
  return {
    publishIntervalMs: publish * 1000,
    staleAfterMs: s.BRIDGE_METRICS_STALE_SECONDS * 1000,
    ttlSeconds: s.BRIDGE_METRICS_TTL_SECONDS,
  };
}

/** Token auth is on with an issuer; an audience is then required, and a key-set URL needs an issuer. */
function tokenAuthConfig(s: Settings): { tokens?: TokenAuthConfig } {
  if (!s.BRIDGE_AUTH_ISSUER) {
    if (s.BRIDGE_AUTH_JWKS_URL || s.BRIDGE_AUTH_AUDIENCE) {
      throw new ConfigError([
        {
          setting: 'BRIDGE_AUTH_ISSUER',
          message: `is required with ${s.BRIDGE_AUTH_JWKS_URL ? 'BRIDGE_AUTH_JWKS_URL' : 'BRIDGE_AUTH_AUDIENCE'} (tokens are checked against their issuer)`,
        },
      ]);
    }
    return {};
  }
  if (!s.BRIDGE_AUTH_AUDIENCE) {
    throw new ConfigError([
      { setting: 'BRIDGE_AUTH_AUDIENCE', message: 'is required when BRIDGE_AUTH_ISSUER is set' },
    ]);
  }
  return {
    tokens: {
      issuer: s.BRIDGE_AUTH_ISSUER,
      ...(s.BRIDGE_AUTH_JWKS_URL ? { jwksUrl: s.BRIDGE_AUTH_JWKS_URL } : {}),
      audience: s.BRIDGE_AUTH_AUDIENCE,
      userClaim: s.BRIDGE_AUTH_USER_CLAIM,
      clockSkewSeconds: s.BRIDGE_AUTH_CLOCK_SKEW_SECONDS,
      jwksCacheSeconds: s.BRIDGE_AUTH_JWKS_CACHE_SECONDS,
      jwksCooldownSeconds: s.BRIDGE_AUTH_JWKS_COOLDOWN_SECONDS,
    },
  };
}

function rolePriors(raw: string | undefined): Record<string, BetaParams> {
  try {
    return parseRolePriors(raw, 'BRIDGE_BAYES_PRIORS');
  } catch (error) {
    if (!(error instanceof RolePriorsError)) throw error;
    throw new ConfigError([
      { setting: 'BRIDGE_BAYES_PRIORS', message: error.message.replace(/^BRIDGE_BAYES_PRIORS: /, '') },
    ]);
  }
}

/** AI_<NAME>_* settings → the configured providers; a half-configured provider fails fast, naming what is missing. */
function aiConfig(s: Settings): AiConfig {
  const problems: { setting: string; message: string }[] = [];
  const order: AiProviderName[] = [];
  for (const name of s.AI_PROVIDER_ORDER.map((n) => n.toLowerCase())) {
    if (name === HEURISTIC_PROVIDER) continue; // always last anyway
    if (!(AI_PROVIDERS as readonly string[]).includes(name)) {
      problems.push({
        setting: 'AI_PROVIDER_ORDER',
        message: `unknown provider "${name}"; known: ${AI_PROVIDERS.join(', ')}`,
      });
    } else if (!order.includes(name as AiProviderName)) order.push(name as AiProviderName);
  }
  const providers: AiProviderSettings[] = [];
  for (const name of AI_PROVIDERS) {
    const prefix = `AI_${name.toUpperCase().replace(/-/g, '_')}`;
    const get = (suffix: string) =>
      (s as Record<string, unknown>)[`${prefix}_${suffix}`] as string | undefined;
    const [baseUrl, apiKey, apiKeySecret, model, embeddingModel] = [
      get('BASE_URL'),
      get('API_KEY'),
      get('API_KEY_SECRET'),
      get('MODEL'),
      get('EMBEDDING_MODEL'),
    ];
    if (apiKey === undefined && apiKeySecret === undefined) {
      if (model !== undefined || embeddingModel !== undefined)
        problems.push({
          setting: `${prefix}_API_KEY`,
          message: `is required when ${prefix}_MODEL or ${prefix}_EMBEDDING_MODEL is set (or ${prefix}_API_KEY_SECRET)`,
        });
      continue;
    }
    if (apiKey !== undefined && apiKeySecret !== undefined) {
      problems.push({
        setting: `${prefix}_API_KEY_SECRET`,
        message: `set either ${prefix}_API_KEY or ${prefix}_API_KEY_SECRET, not both`,
      });
    }
    if (model === undefined)
      problems.push({ setting: `${prefix}_MODEL`, message: `is required when ${prefix}'s key is set` });
    if (baseUrl === undefined)
      problems.push({ setting: `${prefix}_BASE_URL`, message: `is required when ${prefix}'s key is set` });
    if (model === undefined || baseUrl === undefined) continue;
    providers.push({
      name,
      baseUrl,
      model,
      ...(apiKeySecret !== undefined ? { apiKeySecret } : { apiKey }),
      ...(embeddingModel !== undefined ? { embeddingModel } : {}),
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    order,
    providers,
    timeoutMs: s.AI_TIMEOUT_MS,
    failureThreshold: s.AI_FAILURE_THRESHOLD,
    rateLimitThreshold: s.AI_RATE_LIMIT_THRESHOLD,
    cooldownMs: s.AI_COOLDOWN_SECONDS * 1000,
  };
}

function filesConfig(s: Settings): BridgeConfig['files'] {
  if (s.BRIDGE_FILES === 'embedded') return { kind: 'embedded', maxBytes: s.BRIDGE_FILES_MAX_BYTES };
  if (s.BRIDGE_FILES === 's3') return s3FilesConfig(s);
  if (!s.AZURE_STORAGE_BLOB_ENDPOINT && !s.BRIDGE_FILES_CONNECTION_STRING) {
    throw new ConfigError([
      {
        setting: 'AZURE_STORAGE_BLOB_ENDPOINT',
        message: 'is required when BRIDGE_FILES=azure (or BRIDGE_FILES_CONNECTION_STRING, for Azurite only)',
      },
    ]);
  }
  return {
    kind: 'azure',
    maxBytes: s.BRIDGE_FILES_MAX_BYTES,
    container: s.BRIDGE_FILES_CONTAINER,
    endpoint: s.AZURE_STORAGE_BLOB_ENDPOINT,
    connectionString: s.BRIDGE_FILES_CONNECTION_STRING,
  };
}

/** BRIDGE_FILES=s3: the bucket and region are required; credentials come from the AWS SDK's default chain. */
function s3FilesConfig(s: Settings): BridgeConfig['files'] {
  const problems: { setting: string; message: string }[] = [];
  if (!s.BRIDGE_S3_BUCKET)
    problems.push({ setting: 'BRIDGE_S3_BUCKET', message: 'is required when BRIDGE_FILES=s3' });
  if (!s.BRIDGE_S3_REGION)
    problems.push({ setting: 'BRIDGE_S3_REGION', message: 'is required when BRIDGE_FILES=s3' });
  if (!s.BRIDGE_S3_BUCKET || !s.BRIDGE_S3_REGION) throw new ConfigError(problems);
  return {
    kind: 's3',
    maxBytes: s.BRIDGE_FILES_MAX_BYTES,
    bucket: s.BRIDGE_S3_BUCKET,
    region: s.BRIDGE_S3_REGION,
    ...(s.BRIDGE_S3_ENDPOINT ? { endpoint: s.BRIDGE_S3_ENDPOINT } : {}),
    forcePathStyle: s.BRIDGE_S3_FORCE_PATH_STYLE,
  };
}

/** Settings named BRIDGE_SECRET_<NAME> hold the embedded store's read-only secrets (other than the settings above). */
const SECRET_SETTING_PREFIX = 'BRIDGE_SECRET_';

function secretsConfig(s: Settings, env: NodeJS.ProcessEnv): BridgeConfig['secrets'] {
  if (s.BRIDGE_SECRETS === 'keyvault') {
    if (!s.KEY_VAULT_URI) {
      throw new ConfigError([
        { setting: 'KEY_VAULT_URI', message: 'is required when BRIDGE_SECRETS=keyvault' },
      ]);
    }
    return { kind: 'keyvault', vaultUri: s.KEY_VAULT_URI, cacheSeconds: s.BRIDGE_SECRET_CACHE_SECONDS };
  }
  const settingValues = new Map<string, string>();
  const problems: { setting: string; message: string }[] = [];
  for (const [setting, value] of Object.entries(env)) {
    if (!setting.startsWith(SECRET_SETTING_PREFIX) || (SETTING_NAMES as string[]).includes(setting)) continue;
    if (value === undefined || value === '') continue;
    const suffix = setting.slice(SECRET_SETTING_PREFIX.length);
    if (!/^[A-Za-z0-9_]{1,127}$/.test(suffix)) {
      problems.push({
        setting,
        message: 'a secret setting is BRIDGE_SECRET_ followed by 1-127 letters, digits or _',
      });
      continue;
    }
    settingValues.set(suffix.toLowerCase().replace(/_/g, '-'), value);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind: 'embedded', settingValues };
}

/** `Authorization=AAD;ClientId=<id>` (the Functions convention) → send telemetry with that identity. */
function telemetryConfig(s: Settings): BridgeConfig['telemetry'] {
  const pairs = new Map(
    (s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '')
      .split(';')
      .map((pair) => pair.split('=').map((part) => part.trim()))
      .filter((kv): kv is [string, string] => kv.length === 2)
      .map(([k, v]) => [k.toLowerCase(), v] as const),
  );
  const entra = pairs.get('authorization')?.toUpperCase() === 'AAD';
  const clientId = pairs.get('clientid');
  return {
    connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
    ...(entra ? { entra: clientId ? { clientId } : {} } : {}),
  };
}
