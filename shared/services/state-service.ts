import type { Clock } from '../ports/clock';
import type { DocumentStore, JsonValue } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { ServiceError } from './errors';

export interface StateEntry {
  key: string;
  value: JsonValue;
  version: number;
  updatedAt: string;
  expiresAt?: string;
}

export interface StatePut {
  value: JsonValue;
  ttlSeconds?: number;
  /** ETag the caller last saw; '*' = must exist. */
  ifMatch?: string;
  /** '*' = must not exist yet. */
  ifNoneMatch?: string;
}

const STATE_ID = 'state';
const STATE_TYPE = 'state';
const statePartition = (key: string) => `state:${key}`;

/** SharedStateManager: versioned key/value entries with ETags and optional expiry. */
export class StateService {
  constructor(
    private readonly store: DocumentStore,
    private readonly container: string,
    private readonly clock: Clock,
    private readonly maxRetries: number,
  ) {}

  async get(key: string): Promise<(StateEntry & { etag: string }) | undefined> {
    const doc = await this.store.read<StateEntry>(this.container, statePartition(key), STATE_ID);
    return doc ? { ...doc.body, etag: doc.etag } : undefined;
  }

  async put(key: string, put: StatePut): Promise<StateEntry & { etag: string }> {
    const pk = statePartition(key);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.read<StateEntry>(this.container, pk, STATE_ID);
      if (put.ifNoneMatch === '*' && current) {
        throw new ServiceError('precondition-failed', `State key ${key} already exists (If-None-Match: *).`);
      }
      if (put.ifMatch !== undefined) {
        if (!current)
          throw new ServiceError('precondition-failed', `State key ${key} does not exist (If-Match).`);
        if (put.ifMatch !== '*' && put.ifMatch !== current.etag) {
          throw new ServiceError(
            'precondition-failed',
            `State key ${key} has changed: its ETag is ${current.etag}.`,
          );
        }
      }
      const now = this.clock.now();
      const entry: StateEntry = {
        key,
        value: put.value,
        version: (current?.body.version ?? 0) + 1,
        updatedAt: new Date(now).toISOString(),
        ...(put.ttlSeconds !== undefined
          ? { expiresAt: new Date(now + put.ttlSeconds * 1000).toISOString() }
          : {}),
      };
      try {
        const doc = { id: STATE_ID, type: STATE_TYPE, body: entry };
        const written = current
          ? await this.store.upsert(this.container, pk, doc, {
              ifMatch: current.etag,
              ttlSeconds: put.ttlSeconds,
            })
          : await this.store.create(this.container, pk, doc, { ttlSeconds: put.ttlSeconds });
        return { ...entry, etag: written.etag };
      } catch (error) {
        const lostRace = isStoreError(error, 'precondition-failed') || isStoreError(error, 'conflict');
        if (!lostRace) throw error;
        // The caller's own precondition is re-checked against the new state on the next pass.
        if (attempt >= this.maxRetries)
          throw new ServiceError('unavailable', `State key ${key} is being written concurrently; retry.`);
      }
    }
  }

  /** True when the key existed. */
  async delete(key: string, ifMatch?: string): Promise<boolean> {
    const pk = statePartition(key);
    try {
      await this.store.delete(
        this.container,
        pk,
        STATE_ID,
        ifMatch && ifMatch !== '*' ? { ifMatch } : undefined,
      );
      return true;
    } catch (error) {
      if (isStoreError(error, 'not-found')) {
        if (ifMatch !== undefined)
          throw new ServiceError('precondition-failed', `State key ${key} does not exist (If-Match).`);
        return false;
      }
      if (isStoreError(error, 'precondition-failed'))
        throw new ServiceError('precondition-failed', `State key ${key} has changed.`);
      throw error;
    }
  }

  async size(): Promise<number> {
    return this.store.count(this.container, { type: STATE_TYPE });
  }
}
