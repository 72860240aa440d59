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

const settingsSchema = z.object({
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
  // Local host only (npm start); the Functions host has its own.
  PORT: intSetting(0, 65535).default(7071),
  BRIDGE_ACCESS_LOG: boolSetting.default(true),
});

export type Settings = z.output<typeof settingsSchema>;

export interface BridgeConfig {
  adminKey: string;
  store: { kind: 'embedded'; dataDir: string; durability: 'normal' | 'full' };
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  // Empty strings count as unset, so `KEY=` in a settings file falls back to the default.
  const raw: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') raw[name] = value.trim();
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        setting: String(issue.path[0] ?? '(settings)'),
        message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
      })),
    );
  }
  const s = parsed.data;
  return {
    adminKey: s.BRIDGE_ADMIN_KEY,
    store: { kind: s.BRIDGE_STORE, dataDir: s.BRIDGE_DATA_DIR, durability: s.BRIDGE_DURABILITY },
    sync: { protectedFields: new Set(s.BRIDGE_PROTECTED_FIELDS), maxRetries: s.BRIDGE_SYNC_MAX_RETRIES },
    http: { maxBodyBytes: s.BRIDGE_MAX_BODY_BYTES },
    auth: { cacheSeconds: s.BRIDGE_AUTH_CACHE_SECONDS },
    localHost: { port: s.PORT, accessLog: s.BRIDGE_ACCESS_LOG },
  };
}
