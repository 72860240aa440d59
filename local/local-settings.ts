import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DataFileError,
  PRIVATE_FILE_MODE,
  ensurePrivateDir,
  tightenFile,
} from '../shared/adapters/embedded/private-files';

/** Shortest admin key the bridge accepts (BRIDGE_ADMIN_KEY's rule). */
const MIN_ADMIN_KEY_LENGTH = 24;

/**
 * Applies local.settings.json "Values" (the file `func start` reads) to process.env without
 * overriding variables already set, so one settings file serves both hosts.
 */
export function applyLocalSettingsFile(root: string, env: NodeJS.ProcessEnv): string | undefined {
  const file = path.join(root, 'local.settings.json');
  if (!fs.existsSync(file)) return undefined;
  let parsed: { Values?: Record<string, unknown> };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> };
  } catch (error) {
    throw new DataFileError(
      file,
      `cannot be read as JSON (${(error as Error).message})`,
      'Fix it, or copy local.settings.example.json over it.',
    );
  }
  for (const [name, value] of Object.entries(parsed?.Values ?? {})) {
    if (env[name] === undefined && typeof value === 'string') env[name] = value;
  }
  return file;
}

/**
 * Locally, an unset BRIDGE_ADMIN_KEY is generated once into the data directory (mode 0600) and
 * reused on every start, so a developer never has to invent one. Returns where it came from and,
 * only when it was generated just now, the key itself (to be shown once).
 */
export function ensureLocalAdminKey(
  dataDir: string,
  env: NodeJS.ProcessEnv,
):
  | { source: 'setting' }
  | { source: 'file'; file: string }
  | { source: 'generated'; file: string; key: string } {
  if (env.BRIDGE_ADMIN_KEY && env.BRIDGE_ADMIN_KEY.trim() !== '') return { source: 'setting' };
  ensurePrivateDir(dataDir);
  const file = path.join(dataDir, 'admin-key');
  const replace = `Delete ${file} to have a new key generated on the next start, or set BRIDGE_ADMIN_KEY.`;
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (stat) {
    if (!stat.isFile()) throw new DataFileError(file, 'is not a regular file (a directory?)', replace);
    let key: string;
    try {
      key = fs.readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new DataFileError(file, `cannot be read (${(error as Error).message})`, replace);
    }
    if (key === '') throw new DataFileError(file, 'is empty', replace);
    if (key.length < MIN_ADMIN_KEY_LENGTH)
      throw new DataFileError(file, `holds a key shorter than ${MIN_ADMIN_KEY_LENGTH} characters`, replace);
    tightenFile(file);
    env.BRIDGE_ADMIN_KEY = key;
    return { source: 'file', file };
  }
  const key = `pba_${randomBytes(32).toString('base64url')}`;
  fs.writeFileSync(file, `${key}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  env.BRIDGE_ADMIN_KEY = key;
  return { source: 'generated', file, key };
}
