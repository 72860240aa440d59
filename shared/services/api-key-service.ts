import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { API_KEY_ID_PATTERN } from '../domain/ids';
import { keyPrincipal, type KeyPrincipal, type Role } from './principal';
import type { Scope } from './scopes';

export interface ApiKeyRecord {
  id: string;
  role: Role;
  name: string;
  createdAt: string;
  /** The route groups it may call; absent = every route of its role (keys issued before scopes). */
  scopes?: Scope[];
  /** When it stops working (ISO time); absent = never. */
  expiresAt?: string;
}

/** What issuing a key may narrow. */
export interface KeyLimits {
  scopes?: readonly Scope[];
  /** Epoch ms. */
  expiresAt?: number;
}

/** The outcome of checking a presented key. */
export type KeyCheck =
  | { ok: true; principal: KeyPrincipal }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'expired'; expiredAt: string };

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
  private readonly cache = new Map<
    string,
    { principal: KeyPrincipal; keyExpiresAt?: number; cachedUntil: number }
  >();

  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly cacheSeconds: number;

  constructor(deps: ApiKeyServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.cacheSeconds = deps.cacheSeconds;
    this.bootstrapHash = sha256(deps.bootstrapAdminKey);
  }

  async issue(role: Role, name: string, limits: KeyLimits = {}): Promise<ApiKeyRecord & { key: string }> {
    const id = randomBytes(10).toString('hex').slice(0, 16);
    const key = `pbk_${id}_${randomBytes(32).toString('base64url')}`;
    const record: ApiKeyDocument = {
      id,
      role,
      name,
      createdAt: new Date(this.clock.now()).toISOString(),
      ...(limits.scopes ? { scopes: [...new Set(limits.scopes)] } : {}),
      ...(limits.expiresAt !== undefined ? { expiresAt: new Date(limits.expiresAt).toISOString() } : {}),
      hash: sha256(key).toString('hex'),
    };
    await this.store.create(KEY_PARTITION, { id, type: KEY_TYPE, body: record });
    const { hash: _hash, ...shown } = record;
    return { ...shown, key };
  }

  /** The key's record (never its hash), or undefined. */
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    if (!API_KEY_ID_PATTERN.test(id)) return undefined;
    const doc = await this.store.read<ApiKeyDocument>(KEY_PARTITION, id);
    if (!doc) return undefined;
    const { hash: _hash, ...record } = doc.body;
    return record;
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
        const { hash: _hash, ...record } = doc.body;
        records.push(record);
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

  /** The principal a presented key stands for, or undefined when it is not a valid (unexpired) key. */
  async authenticate(presented: string): Promise<KeyPrincipal | undefined> {
    const check = await this.check(presented);
    return check.ok ? check.principal : undefined;
  }

  /** Checks a presented key: its principal, or why it does not work (unknown/revoked, or expired). */
  async check(presented: string): Promise<KeyCheck> {
    const hash = sha256(presented);
    if (hash.length === this.bootstrapHash.length && timingSafeEqual(hash, this.bootstrapHash)) {
      return {
        ok: true,
        principal: keyPrincipal('bootstrap', 'admin', 'bootstrap admin key (BRIDGE_ADMIN_KEY)'),
      };
    }
    const match = KEY_FORMAT.exec(presented);
    if (!match) return { ok: false, reason: 'invalid' };
    const hex = hash.toString('hex');
    const now = this.clock.now();
    let entry = this.cache.get(hex);
    if (!entry || entry.cachedUntil <= now) {
      const doc = await this.store.read<ApiKeyDocument>(KEY_PARTITION, match[1] as string);
      if (!doc || !timingSafeEqual(Buffer.from(doc.body.hash, 'hex'), hash)) {
        this.cache.delete(hex);
        return { ok: false, reason: 'invalid' };
      }
      const { id, role, name, scopes, expiresAt } = doc.body;
      entry = {
        principal: keyPrincipal(id, role, name, scopes),
        ...(expiresAt !== undefined ? { keyExpiresAt: Date.parse(expiresAt) } : {}),
        cachedUntil: now + this.cacheSeconds * 1000,
      };
      if (this.cacheSeconds > 0) {
        if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
        this.cache.set(hex, entry);
      }
    }
    // Expiry is checked on every use, cached or not.
    if (entry.keyExpiresAt !== undefined && entry.keyExpiresAt <= now) {
      return { ok: false, reason: 'expired', expiredAt: new Date(entry.keyExpiresAt).toISOString() };
    }
    return { ok: true, principal: entry.principal };
  }
}
