import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { API_KEY_ID_PATTERN } from '../domain/ids';
import { keyPrincipal, type Principal, type Role } from './principal';

export interface ApiKeyRecord {
  id: string;
  role: Role;
  name: string;
  createdAt: string;
}

interface ApiKeyDocument extends ApiKeyRecord {
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: string;
}

const KEY_PARTITION = 'apikeys';
const KEY_TYPE = 'apikey';
/** Keys look like `pbk_<id>_<secret>`: the id finds the record without scanning, the hash proves the secret. */
const KEY_FORMAT = /^pbk_([a-z0-9]{16})_[A-Za-z0-9_-]{43}$/;
const MAX_CACHE_ENTRIES = 10_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** What ApiKeyService is built from (the composition root passes these). */
export interface ApiKeyServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  bootstrapAdminKey: string;
  cacheSeconds: number;
}

/**
 * Issues, lists, revokes and checks API keys. Keys are shown once and stored only as hashes.
 * Successful look-ups are cached for `cacheSeconds` so a hot key costs no store read;
 * a revocation evicts at once on this instance and within `cacheSeconds` on others.
 */
export class ApiKeyService {
  private readonly bootstrapHash: Buffer;
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number }>();

  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly cacheSeconds: number;

  constructor(deps: ApiKeyServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.cacheSeconds = deps.cacheSeconds;
    this.bootstrapHash = sha256(deps.bootstrapAdminKey);
  }

  async issue(role: Role, name: string): Promise<ApiKeyRecord & { key: string }> {
    const id = randomBytes(10).toString('hex').slice(0, 16);
    const key = `pbk_${id}_${randomBytes(32).toString('base64url')}`;
    const record: ApiKeyDocument = {
      id,
      role,
      name,
      createdAt: new Date(this.clock.now()).toISOString(),
      hash: sha256(key).toString('hex'),
    };
    await this.store.create(KEY_PARTITION, { id, type: KEY_TYPE, body: record });
    return { id, key, role, name, createdAt: record.createdAt };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    let continuation: string | undefined;
    do {
      const page = await this.store.query<ApiKeyDocument>({
        pk: KEY_PARTITION,
        type: KEY_TYPE,
        limit: 1000,
        continuation,
      });
      for (const doc of page.items) {
        const { id, role, name, createdAt } = doc.body;
        records.push({ id, role, name, createdAt });
      }
      continuation = page.continuation;
    } while (continuation);
    return records;
  }

  /** True when the key existed. */
  async revoke(id: string): Promise<boolean> {
    for (const [hash, entry] of this.cache) if (entry.principal.keyId === id) this.cache.delete(hash);
    if (!API_KEY_ID_PATTERN.test(id)) return false;
    try {
      await this.store.delete(KEY_PARTITION, id);
      return true;
    } catch (error) {
      if (isStoreError(error, 'not-found')) return false;
      throw error;
    }
  }

  /** The principal a presented key stands for, or undefined when it is not a valid key. */
  async authenticate(presented: string): Promise<Principal | undefined> {
    const hash = sha256(presented);
    if (hash.length === this.bootstrapHash.length && timingSafeEqual(hash, this.bootstrapHash)) {
      return keyPrincipal('bootstrap', 'admin', 'bootstrap admin key (BRIDGE_ADMIN_KEY)');
    }
    const match = KEY_FORMAT.exec(presented);
    if (!match) return undefined;
    const hex = hash.toString('hex');
    const now = this.clock.now();
    const cached = this.cache.get(hex);
    if (cached && cached.expiresAt > now) return cached.principal;

    const doc = await this.store.read<ApiKeyDocument>(KEY_PARTITION, match[1] as string);
    if (!doc || !timingSafeEqual(Buffer.from(doc.body.hash, 'hex'), hash)) {
      this.cache.delete(hex);
      return undefined;
    }
    const principal = keyPrincipal(doc.body.id, doc.body.role, doc.body.name);
    if (this.cacheSeconds > 0) {
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
      this.cache.set(hex, { principal, expiresAt: now + this.cacheSeconds * 1000 });
    }
    return principal;
  }
}
