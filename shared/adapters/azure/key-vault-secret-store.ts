import type { TokenCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions, type SecretProperties } from '@azure/keyvault-secrets';
import type { Clock } from '../../ports/clock';
import type { SecretMetadata, SecretStore } from '../../ports/secret-store';

export interface KeyVaultSecretStoreOptions {
  /** `https://<vault>.vault.azure.net` (KEY_VAULT_URI). */
  vaultUrl: string;
  credential: TokenCredential;
  /** How long a read value is served from memory (BRIDGE_SECRET_CACHE_SECONDS); 0 disables. */
  cacheSeconds: number;
  clock?: Clock;
  clientOptions?: SecretClientOptions;
}

interface CacheEntry {
  value: string;
  expiresAt: number;
}

const statusOf = (error: unknown): number | undefined =>
  (error as { statusCode?: number } | undefined)?.statusCode;

/**
 * SecretStore over Azure Key Vault. One SecretClient per worker; a read value is cached for
 * `cacheSeconds` (concurrent reads of one name share a request), and a write through this instance
 * refreshes its cache at once. Other instances see a new value within `cacheSeconds`.
 */
export class KeyVaultSecretStore implements SecretStore {
  private readonly client: SecretClient;
  private readonly clock: Clock;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<string | undefined>>();
  /** Bumped by every write, so a read that started before it cannot cache the older value. */
  private generation = 0;

  constructor(private readonly options: KeyVaultSecretStoreOptions) {
    this.client = new SecretClient(options.vaultUrl, options.credential, options.clientOptions);
    this.clock = options.clock ?? { now: () => Date.now() };
  }

  get(name: string): Promise<string | undefined> {
    const key = name.toLowerCase();
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.clock.now()) return Promise.resolve(cached.value);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const request = this.fetch(name, key).finally(() => {
      if (this.inflight.get(key) === request) this.inflight.delete(key);
    });
    this.inflight.set(key, request);
    return request;
  }

  async set(name: string, value: string): Promise<SecretMetadata> {
    const key = name.toLowerCase();
    this.generation += 1;
    const secret = await this.client.setSecret(name, value);
    this.generation += 1;
    this.inflight.delete(key);
    this.remember(key, value);
    return metadata(secret.properties);
  }

  async list(): Promise<SecretMetadata[]> {
    const all: SecretMetadata[] = [];
    for await (const properties of this.client.listPropertiesOfSecrets()) all.push(metadata(properties));
    return all.sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }));
  }

  async close(): Promise<void> {
    this.cache.clear();
  }

  private async fetch(name: string, key: string): Promise<string | undefined> {
    const generation = this.generation;
    try {
      const secret = await this.client.getSecret(name);
      if (secret.value === undefined) return undefined;
      if (generation === this.generation) this.remember(key, secret.value);
      return secret.value;
    } catch (error) {
      if (statusOf(error) === 404) {
        this.cache.delete(key);
        return undefined;
      }
      throw error;
    }
  }

  private remember(key: string, value: string): void {
    if (this.options.cacheSeconds <= 0) return;
    this.cache.set(key, { value, expiresAt: this.clock.now() + this.options.cacheSeconds * 1000 });
  }
}

function metadata(p: SecretProperties): SecretMetadata {
  return {
    name: p.name,
    enabled: p.enabled ?? true,
    source: 'keyvault',
    readOnly: p.managed === true,
    ...(p.contentType ? { contentType: p.contentType } : {}),
    ...(p.createdOn ? { createdOn: p.createdOn.toISOString() } : {}),
    ...(p.updatedOn ? { updatedOn: p.updatedOn.toISOString() } : {}),
  };
}
