import { z } from 'zod';

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

/** Settings the function files need at registration time (trigger options), before any request. */
const triggerSettingsSchema = z.object({
  COSMOS_DATABASE: z.string().min(1).default('portal-bridge'),
  COSMOS_CONTAINER: z.string().min(1).default('state'),
  COSMOS_LEASE_CONTAINER: z.string().min(1).default('leases'),
  BRIDGE_FEED_POLL_DELAY_MS: intSetting(10, 60_000).default(250),
  BRIDGE_FEED_MAX_ITEMS: intSetting(1, 10_000).default(100),
  BRIDGE_SWEEP_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'expected a six-field NCRONTAB expression, e.g. */10 * * * * *')
    .default('*/10 * * * * *'),
});

const settingsSchema = triggerSettingsSchema.extend({
  BRIDGE_ADMIN_KEY: z
    .string()
    .min(24, 'must be at least 24 characters (generate one with: openssl rand -base64 32)'),
  BRIDGE_STORE: z.enum(['embedded']).default('embedded'),
  BRIDGE_DATA_DIR: z.string().min(1).default('.data'),
  BRIDGE_DURABILITY: z.enum(['normal', 'full']).default('normal'),
  BRIDGE_PROTECTED_FIELDS: listSetting.default(['role', 'permissions', 'status']),
  BRIDGE_SYNC_MAX_RETRIES: intSetting(0, 100).default(20),
  BRIDGE_MAX_BODY_BYTES: intSetting(1024, 100 * 1024 * 1024).default(1024 * 1024),
  BRIDGE_AUTH_CACHE_SECONDS: intSetting(0, 3600).default(30),
  BRIDGE_BUS: z.enum(['embedded', 'servicebus']).default('embedded'),
  ServiceBusConnection__fullyQualifiedNamespace: z.string().min(1).optional(),
  ServiceBusConnection: z.string().min(1).optional(),
  BRIDGE_EVENTS_FAST_PATH: boolSetting.default(true),
  BRIDGE_SWEEP_GRACE_SECONDS: intSetting(1, 86_400).default(10),
  BRIDGE_EVENT_RETENTION_DAYS: intSetting(1, 3650).default(7),
  BRIDGE_WEBHOOK_MAX_ATTEMPTS: intSetting(1, 100).default(8),
  BRIDGE_WEBHOOK_MAX_AGE_SECONDS: intSetting(60, 30 * 86_400).default(86_400),
  BRIDGE_WEBHOOK_BACKOFF_BASE_MS: intSetting(10, 3_600_000).default(1000),
  BRIDGE_WEBHOOK_TIMEOUT_MS: intSetting(100, 120_000).default(5000),
  BRIDGE_WEBHOOK_ALLOW_PRIVATE: boolSetting.default(false),
  // Local host only (npm start); the Functions host has its own.
  PORT: intSetting(0, 65535).default(7071),
  BRIDGE_ACCESS_LOG: boolSetting.default(true),
});

export type Settings = z.output<typeof settingsSchema>;
export type TriggerSettings = z.output<typeof triggerSettingsSchema>;

export interface BridgeConfig {
  adminKey: string;
  store: { kind: 'embedded'; dataDir: string; durability: 'normal' | 'full'; container: string };
  bus:
    | { kind: 'embedded' }
    | { kind: 'servicebus'; fullyQualifiedNamespace?: string; connectionString?: string };
  events: {
    fastPath: boolean;
    sweepGraceSeconds: number;
    retentionSeconds: number;
  };
  webhooks: {
    maxAttempts: number;
    maxAgeSeconds: number;
    backoffBaseMs: number;
    timeoutMs: number;
    allowPrivateAddresses: boolean;
  };
  triggers: TriggerSettings;
  sync: { protectedFields: ReadonlySet<string>; maxRetries: number };
  http: { maxBodyBytes: number };
  auth: { cacheSeconds: number };
  localHost: { port: number; accessLog: boolean };
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
  if (s.BRIDGE_BUS === 'servicebus' && !s.ServiceBusConnection__fullyQualifiedNamespace && !s.ServiceBusConnection) {
    throw new ConfigError([
      {
        setting: 'ServiceBusConnection__fullyQualifiedNamespace',
        message: 'is required when BRIDGE_BUS=servicebus (or ServiceBusConnection, a connection string, for emulators)',
      },
    ]);
  }
  return {
    adminKey: s.BRIDGE_ADMIN_KEY,
    store: { kind: s.BRIDGE_STORE, dataDir: s.BRIDGE_DATA_DIR, durability: s.BRIDGE_DURABILITY, container: s.COSMOS_CONTAINER },
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
    },
    webhooks: {
      maxAttempts: s.BRIDGE_WEBHOOK_MAX_ATTEMPTS,
      maxAgeSeconds: s.BRIDGE_WEBHOOK_MAX_AGE_SECONDS,
      backoffBaseMs: s.BRIDGE_WEBHOOK_BACKOFF_BASE_MS,
      timeoutMs: s.BRIDGE_WEBHOOK_TIMEOUT_MS,
      allowPrivateAddresses: s.BRIDGE_WEBHOOK_ALLOW_PRIVATE,
    },
    triggers: {
      COSMOS_DATABASE: s.COSMOS_DATABASE,
      COSMOS_CONTAINER: s.COSMOS_CONTAINER,
      COSMOS_LEASE_CONTAINER: s.COSMOS_LEASE_CONTAINER,
      BRIDGE_FEED_POLL_DELAY_MS: s.BRIDGE_FEED_POLL_DELAY_MS,
      BRIDGE_FEED_MAX_ITEMS: s.BRIDGE_FEED_MAX_ITEMS,
      BRIDGE_SWEEP_SCHEDULE: s.BRIDGE_SWEEP_SCHEDULE,
    },
    sync: { protectedFields: new Set(s.BRIDGE_PROTECTED_FIELDS), maxRetries: s.BRIDGE_SYNC_MAX_RETRIES },
    http: { maxBodyBytes: s.BRIDGE_MAX_BODY_BYTES },
    auth: { cacheSeconds: s.BRIDGE_AUTH_CACHE_SECONDS },
    localHost: { port: s.PORT, accessLog: s.BRIDGE_ACCESS_LOG },
  };
}
