import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretStore } from '../ports/secret-store';

/** The secret-store entries holding the data key for secrets kept in documents (base64, 32 bytes). */
export const SEALING_KEY_SECRET = 'webhook-signing-key';
export const PREVIOUS_SEALING_KEY_SECRET = 'webhook-signing-key-previous';

const PREFIX = 'sealed:v1';
const KEY_CACHE_MS = 60_000;

interface DataKey {
  id: string;
  bytes: Buffer;
}

const keyOf = (value: string, name: string): DataKey => {
  const bytes = Buffer.from(value.trim(), 'base64');
  if (bytes.length !== 32)
    throw new Error(`Secret ${name} must be 32 bytes, base64-encoded (it has ${bytes.length}).`);
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes };
};

/**
 * Seals secrets that must live in documents (webhook signing secrets) with AES-256-GCM under a data
 * key kept in the secret store (Key Vault in Azure, the embedded store locally), generated there
 * once when absent. A sealed value names its key (`sealed:v1:<key id>:<iv>:<ciphertext>:<tag>`) and
 * is bound to its document (the id is the additional authenticated data), so a copied value does
 * not open elsewhere. Rotation: the previous key stays readable under PREVIOUS_SEALING_KEY_SECRET;
 * values it sealed open as `stale`, and their owner re-seals them with the current key.
 */
export class SecretSealer {
  private cached: { at: number; keys: Promise<{ current: DataKey; previous?: DataKey }> } | undefined;

  constructor(
    private readonly secrets: SecretStore,
    private readonly now: () => number = Date.now,
  ) {}

  async seal(plain: string, boundTo: string): Promise<string> {
    const { current } = await this.keys();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current.bytes, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const parts = [iv, sealed, cipher.getAuthTag()].map((b) => b.toString('base64url'));
    return `${PREFIX}:${current.id}:${parts.join(':')}`;
  }

  /** The plain value; `stale` when it was stored unsealed or under the previous key (re-seal it). */
  async open(stored: string, boundTo: string): Promise<{ plain: string; stale: boolean }> {
    if (!stored.startsWith(`${PREFIX}:`)) return { plain: stored, stale: true }; // stored before sealing
    const [, , keyId, iv, sealed, tag] = stored.split(':');
    const { current, previous } = await this.keys();
    const key = [current, previous].find((k) => k?.id === keyId);
    if (!key || !iv || !sealed || !tag)
      throw new Error(
        `A sealed secret names the key ${keyId ?? '?'}, which the secret store no longer holds.`,
      );
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(boundTo, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]);
    return { plain: plain.toString('utf8'), stale: key !== current };
  }

  private keys(): Promise<{ current: DataKey; previous?: DataKey }> {
    const now = this.now();
    if (!this.cached || now - this.cached.at > KEY_CACHE_MS) {
      const keys = this.loadKeys();
      this.cached = { at: now, keys };
      keys.catch(() => (this.cached = undefined));
    }
    return this.cached.keys;
  }

  private async loadKeys(): Promise<{ current: DataKey; previous?: DataKey }> {
    let value = await this.secrets.get(SEALING_KEY_SECRET);
    if (value === undefined) {
      // First use: generate the key in the secret store, then read it back (another instance may
      // have written its own first; the stored one wins).
      await this.secrets.set(SEALING_KEY_SECRET, randomBytes(32).toString('base64'));
      value = (await this.secrets.get(SEALING_KEY_SECRET)) as string;
    }
    const previous = await this.secrets.get(PREVIOUS_SEALING_KEY_SECRET);
    return {
      current: keyOf(value, SEALING_KEY_SECRET),
      ...(previous !== undefined ? { previous: keyOf(previous, PREVIOUS_SEALING_KEY_SECRET) } : {}),
    };
  }
}
