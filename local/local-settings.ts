import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Applies local.settings.json "Values" (the file `func start` reads) to process.env without
 * overriding variables already set, so one settings file serves both hosts.
 */
export function applyLocalSettingsFile(root: string, env: NodeJS.ProcessEnv): string | undefined {
  const file = path.join(root, 'local.settings.json');
  if (!fs.existsSync(file)) return undefined;
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> };
  for (const [name, value] of Object.entries(parsed.Values ?? {})) {
    if (env[name] === undefined && typeof value === 'string') env[name] = value;
  }
  return file;
}

/**
 * Locally, an unset BRIDGE_ADMIN_KEY is generated once into the data directory (mode 0600) and
 * reused on every start, so a developer never has to invent one. Returns where it came from.
 */
export function ensureLocalAdminKey(
  dataDir: string,
  env: NodeJS.ProcessEnv,
): { source: 'setting' | 'generated' | 'file'; file?: string } {
  if (env.BRIDGE_ADMIN_KEY && env.BRIDGE_ADMIN_KEY.trim() !== '') return { source: 'setting' };
  const file = path.join(dataDir, 'admin-key');
  if (fs.existsSync(file)) {
    env.BRIDGE_ADMIN_KEY = fs.readFileSync(file, 'utf8').trim();
    return { source: 'file', file };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const key = `pba_${randomBytes(32).toString('base64url')}`;
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  env.BRIDGE_ADMIN_KEY = key;
  return { source: 'generated', file };
}
