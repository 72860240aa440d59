import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { DataFileError, ensurePrivateDir, tightenFile } from './private-files';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Clock } from '../../ports/clock';
import { SecretStoreError, type SecretMetadata, type SecretStore } from '../../ports/secret-store';

interface StoredSecret {
  value: string;
  createdOn: string;
  updatedOn: string;
}

interface SecretsFile {
  version: 1;
  secrets: Record<string, StoredSecret>;
}

export interface SettingsSecretStoreOptions {
  /** Directory of `secrets.json` (BRIDGE_DATA_DIR). */
  dataDir: string;
  /** Read-only values from BRIDGE_SECRET_<NAME> settings, keyed by lower-case secret name. */
  settingValues: ReadonlyMap<string, string>;
  clock?: Clock;
}

/**
 * The embedded SecretStore. Values come from `BRIDGE_SECRET_<NAME>` settings (read-only; the name
 * `openai-api-key` is the setting `BRIDGE_SECRET_OPENAI_API_KEY`) and from secrets written through
 * the bridge, kept in `<dataDir>/secrets.json` with mode 0600 (replaced atomically: temp file +
 * rename). Names are case-insensitive, as in Key Vault.
 */
export class SettingsSecretStore implements SecretStore {
  private readonly file: string;
  private readonly clock: Clock;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SettingsSecretStoreOptions) {
    this.file = path.join(options.dataDir, 'secrets.json');
    this.clock = options.clock ?? { now: () => Date.now() };
    ensurePrivateDir(options.dataDir);
    // Checked at start-up, so a damaged file stops the bridge with its name and the fix instead
    // of failing every route that needs a secret later.
    try {
      parseSecretsFile(fs.readFileSync(this.file, 'utf8'), this.file);
      tightenFile(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async get(name: string): Promise<string | undefined> {
    const key = name.toLowerCase();
    const fromSetting = this.options.settingValues.get(key);
    if (fromSetting !== undefined) return fromSetting;
    return (await this.load()).secrets[key]?.value;
  }

  set(name: string, value: string): Promise<SecretMetadata> {
    const key = name.toLowerCase();
    if (this.options.settingValues.has(key)) {
      return Promise.reject(
        new SecretStoreError(
          'read-only',
          `Secret ${key} comes from the setting ${secretSettingName(key)} and is read-only.`,
        ),
      );
    }
    const write = this.writes.then(async () => {
      const current = await this.load();
      const now = new Date(this.clock.now()).toISOString();
      const previous = current.secrets[key];
      const next: SecretsFile = {
        version: 1,
        secrets: {
          ...current.secrets,
          [key]: { value, createdOn: previous?.createdOn ?? now, updatedOn: now },
        },
      };
      await this.save(next);
      return fileMetadata(key, next.secrets[key] as StoredSecret);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  async list(): Promise<SecretMetadata[]> {
    const stored = await this.load();
    const all = new Map<string, SecretMetadata>();
    for (const [name, secret] of Object.entries(stored.secrets)) all.set(name, fileMetadata(name, secret));
    for (const name of this.options.settingValues.keys()) {
      all.set(name, { name, enabled: true, source: 'setting', readOnly: true });
    }
    return [...all.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async close(): Promise<void> {
    await this.writes;
  }

  private async load(): Promise<SecretsFile> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, secrets: {} };
      throw error;
    }
    return parseSecretsFile(text, this.file);
  }

  private async save(contents: SecretsFile): Promise<void> {
    const staged = path.join(this.options.dataDir, `.secrets.${randomUUID()}.tmp`);
    try {
      const handle = await fsp.open(staged, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(contents, null, 2), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(staged, this.file);
      await fsp.chmod(this.file, 0o600);
    } finally {
      await fsp.rm(staged, { force: true });
    }
  }
}

function fileMetadata(name: string, secret: StoredSecret): SecretMetadata {
  return {
    name,
    enabled: true,
    source: 'file',
    readOnly: false,
    createdOn: secret.createdOn,
    updatedOn: secret.updatedOn,
  };
}

/** The setting that holds a secret for the embedded store: `openai-api-key` → `BRIDGE_SECRET_OPENAI_API_KEY`. */
export function secretSettingName(name: string): string {
  return `BRIDGE_SECRET_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** Reads secrets.json; anything but `{version: 1, secrets: {name: {value: string, …}}}` is a DataFileError naming the file. */
function parseSecretsFile(text: string, file: string): SecretsFile {
  const fix =
    'Fix the JSON by hand, or move the file aside and write the secrets again with PUT /api/secrets/{name}.';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(file, `is not valid JSON (${(error as Error).message})`, fix);
  }
  const entries =
    typeof parsed === 'object' && parsed !== null ? (parsed as { secrets?: unknown }).secrets : undefined;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
    throw new DataFileError(file, 'has no "secrets" object', fix);
  // A null-prototype map: secret names can never reach Object.prototype.
  const secrets: Record<string, StoredSecret> = Object.create(null) as Record<string, StoredSecret>;
  for (const [name, secret] of Object.entries(entries as Record<string, unknown>)) {
    if (typeof secret !== 'object' || secret === null || typeof (secret as StoredSecret).value !== 'string')
      throw new DataFileError(file, `has no string value for the secret "${name}"`, fix);
    secrets[name] = secret as StoredSecret;
  }
  return { version: 1, secrets };
}
