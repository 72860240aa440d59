import {
  RateLimiterRes,
  type RateLimiterAbstract,
  type RateLimiterStoreAbstract as StoreAbstract,
} from 'rate-limiter-flexible';
import type { Clock } from '../ports/clock';
import { isStoreError, type DocumentCollection } from '../ports/document-store';

/**
 * A rate-limiter-flexible store over the DocumentStore port, so every instance of the bridge
 * counts against one window per key: Cosmos DB in Azure, the shared SQLite file locally (several
 * local hosts over one BRIDGE_DATA_DIR share it too).
 *
 * One document per limited key (`ratelimit:<key>`), updated with a conditional write on its ETag
 * (a writer that lost the race re-reads and retries), expiring with its window. Once a key is
 * used up, this instance answers from memory until the window ends (`inMemoryBlockOnConsumed`),
 * so a client over its limit costs no store access. If the store fails, the insurance limiter (a
 * per-instance memory one) decides instead.
 */

// The base class of the library's store-backed limiters: declared in its types but not re-exported
// by its index, so it is loaded from its module (the package has no exports map).
const RateLimiterStoreAbstract =
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('rate-limiter-flexible/lib/RateLimiterStoreAbstract') as typeof StoreAbstract;

interface CounterBody {
  points: number;
  /** Epoch ms when the window ends; null = never. */
  expireAt: number | null;
}

const COUNTER_ID = 'counter';
const COUNTER_TYPE = 'ratelimit';
const MAX_ATTEMPTS = 25;

export interface DocumentRateLimiterOptions {
  store: DocumentCollection;
  clock: Clock;
  points: number;
  durationSeconds: number;
  keyPrefix: string;
  insuranceLimiter: RateLimiterAbstract;
}

export class DocumentRateLimiter extends RateLimiterStoreAbstract {
  private readonly store: DocumentCollection;
  private readonly clock: Clock;

  constructor(options: DocumentRateLimiterOptions) {
    super({
      storeClient: options.store,
      points: options.points,
      duration: options.durationSeconds,
      keyPrefix: options.keyPrefix,
      inMemoryBlockOnConsumed: options.points,
      insuranceLimiter: options.insuranceLimiter,
    });
    this.store = options.store;
    this.clock = options.clock;
  }

  /** Adds `points` to the key's window (a new window when there is none or it ended), atomically. */
  async _upsert(
    rlKey: string,
    points: number,
    msDuration: number,
    forceExpire = false,
  ): Promise<CounterBody> {
    const pk = `ratelimit:${rlKey}`;
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.store.read<CounterBody>(pk, COUNTER_ID);
      const now = this.clock.now();
      const live = current && !forceExpire && (current.body.expireAt === null || current.body.expireAt > now);
      const body: CounterBody = live
        ? { points: current.body.points + points, expireAt: current.body.expireAt }
        : { points, expireAt: msDuration > 0 ? now + msDuration : null };
      const ttlSeconds =
        body.expireAt === null ? undefined : Math.max(1, Math.ceil((body.expireAt - now) / 1000) + 1);
      const doc = { id: COUNTER_ID, type: COUNTER_TYPE, body };
      try {
        if (current)
          await this.store.upsert(pk, doc, { ifMatch: current.etag, ...(ttlSeconds ? { ttlSeconds } : {}) });
        else await this.store.create(pk, doc, ttlSeconds ? { ttlSeconds } : {});
        return body;
      } catch (error) {
        const lostRace =
          isStoreError(error, 'precondition-failed') ||
          isStoreError(error, 'conflict') ||
          isStoreError(error, 'not-found');
        if (!lostRace || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  async _get(rlKey: string): Promise<CounterBody | null> {
    const doc = await this.store.read<CounterBody>(`ratelimit:${rlKey}`, COUNTER_ID);
    if (!doc) return null;
    const { expireAt } = doc.body;
    return expireAt === null || expireAt > this.clock.now() ? doc.body : null;
  }

  async _delete(rlKey: string): Promise<boolean> {
    try {
      await this.store.delete(`ratelimit:${rlKey}`, COUNTER_ID);
      return true;
    } catch (error) {
      if (isStoreError(error, 'not-found')) return false;
      throw error;
    }
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, result: CounterBody): RateLimiterRes {
    const consumed = result.points;
    return new RateLimiterRes(
      Math.max(this.points - consumed, 0),
      result.expireAt === null ? -1 : Math.max(result.expireAt - this.clock.now(), 0),
      consumed,
      changedPoints === consumed,
    );
  }
}
