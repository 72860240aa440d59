import { randomBytes } from 'node:crypto';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';

/** One delivery attempt of one event to one subscription, as its owner reads it. */
export interface DeliveryAttempt {
  at: string;
  eventId: string;
  /** The receiver's HTTP status; null when there was no answer (timeout, refused, DNS…). */
  status: number | null;
  error?: string;
  durationMs: number;
  /** 1 for the first attempt of a delivery, then 2, 3… */
  attempt: number;
  /** A batched subscription's: how many events the POST carried. */
  batchSize?: number;
}

const ATTEMPT_TYPE = 'webhook-attempt';
const attemptPartition = (subscriptionId: string) => `webhook-attempts:${subscriptionId}`;
/** Attempts listed per subscription (the newest); older ones are pruned. */
export const MAX_ATTEMPTS_KEPT = 1000;
/**
 * Prune a subscription's log after this many writes in this instance. A prune reads past the
 * newest MAX_ATTEMPTS_KEPT, so its cost per attempt is (MAX_ATTEMPTS_KEPT + PRUNE_EVERY) /
 * PRUNE_EVERY documents read: at 50 it was 21 reads per delivery and the attempt log cost more than
 * the deliveries themselves (bench/RESULTS.md, 2026-11-30); at 500 it is 3. Between prunes a
 * subscription stores up to MAX_ATTEMPTS_KEPT + PRUNE_EVERY - 1 attempts (per instance writing it).
 */
export const PRUNE_EVERY = 500;
/** Keys counted for pruning (bounded memory; a cleared counter only delays a prune). */
const MAX_COUNTERS = 10_000;
const MAX_TIME = 9_999_999_999_999;
/** Writes or deletes per transaction (the stores' batch limit). */
const BATCH = 100;
/** Attempts waiting to be written at most; past it (a store that stopped answering) more are dropped. */
export const MAX_QUEUED_ATTEMPTS = 10_000;

/** A stored record: one attempt, or the attempts of one batched POST (one document for all its events). */
type AttemptRecord = DeliveryAttempt | { at: string; attempts: DeliveryAttempt[] };

interface QueuedAttempt {
  attempt: AttemptRecord;
  written: () => void;
}

/**
 * The attempt log: a document per attempt (a batched POST's holds the attempts of all its events)
 * in the subscription's own partition, with the event retention as TTL. Ids start with the inverted
 * time, so the store's default (id) order is newest first and a read or a prune is one ordered query.
 */
export class WebhookAttemptLog {
  private readonly sincePrune = new Map<string, number>();
  /** Attempts waiting for the next write, per subscription. */
  private queued = new Map<string, QueuedAttempt[]>();
  private queuedCount = 0;
  private dropped = 0;
  private writing: Promise<void> | undefined;

  constructor(
    private readonly store: DocumentCollection,
    private readonly retentionSeconds: number,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /**
   * Records an attempt. It is queued and written with the others of the same event-loop turn (one
   * transaction per subscription and up to 100 attempts), so a delivery never waits for its record:
   * the returned promise (resolved once written) is for those who want to wait. A failure to write
   * is logged, never thrown. A crash loses only attempts not yet written (the turn's), never a delivery.
   * The attempts of one batched POST are given together and stored as one document.
   */
  record(subscriptionId: string, attempt: DeliveryAttempt | readonly DeliveryAttempt[]): Promise<void> {
    if (this.queuedCount >= MAX_QUEUED_ATTEMPTS) {
      this.dropped += 1;
      return Promise.resolve();
    }
    const record = asRecord(attempt);
    if (!record) return Promise.resolve(); // an empty batch: nothing happened
    return new Promise((written) => {
      const list = this.queued.get(subscriptionId);
      if (list) list.push({ attempt: record, written });
      else this.queued.set(subscriptionId, [{ attempt: record, written }]);
      this.queuedCount += 1;
      this.writing ??= this.writeQueued();
    });
  }

  /** Resolves once every attempt recorded so far is written (shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeQueued(): Promise<void> {
    // The rest of this turn's attempts join the same transactions.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queuedCount > 0) {
        const queued = this.queued;
        this.queued = new Map();
        this.queuedCount = 0;
        for (const [subscriptionId, attempts] of queued) await this.write(subscriptionId, attempts);
        if (this.dropped > 0) {
          this.log(
            `webhook attempt log: ${this.dropped} attempt(s) not recorded (the store is not keeping up)`,
          );
          this.dropped = 0;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(subscriptionId: string, attempts: QueuedAttempt[]): Promise<void> {
    const pk = attemptPartition(subscriptionId);
    for (let i = 0; i < attempts.length; i += BATCH) {
      const chunk = attempts.slice(i, i + BATCH);
      try {
        await this.store.batch(
          pk,
          chunk.map(({ attempt }) => ({
            op: 'create' as const,
            id: `att_${String(MAX_TIME - Date.parse(attempt.at)).padStart(13, '0')}_${randomBytes(6).toString('hex')}`,
            type: ATTEMPT_TYPE,
            body: attempt,
            ttlSeconds: this.retentionSeconds,
          })),
        );
        await this.countTowardsPrune(subscriptionId, chunk.length);
      } catch (error) {
        this.log(`webhook ${subscriptionId}: recording ${chunk.length} attempt(s) failed: ${String(error)}`);
      }
      for (const { written } of chunk) written();
    }
  }

  /** Prunes a subscription's log once PRUNE_EVERY attempts were written for it since the last prune (never throws). */
  private async countTowardsPrune(subscriptionId: string, written: number): Promise<void> {
    const count = (this.sincePrune.get(subscriptionId) ?? 0) + written;
    if (count < PRUNE_EVERY) {
      if (this.sincePrune.size >= MAX_COUNTERS) this.sincePrune.clear();
      this.sincePrune.set(subscriptionId, count);
      return;
    }
    this.sincePrune.delete(subscriptionId);
    try {
      await this.prune(subscriptionId);
    } catch (error) {
      this.log(`webhook ${subscriptionId}: pruning its attempt log failed: ${String(error)}`);
    }
  }

  /** The newest `limit` attempts, newest first (a batched POST's events share its time). */
  async newest(subscriptionId: string, limit: number): Promise<DeliveryAttempt[]> {
    const page = await this.store.query<AttemptRecord>({
      pk: attemptPartition(subscriptionId),
      type: ATTEMPT_TYPE,
      limit: Math.min(limit, MAX_ATTEMPTS_KEPT),
    });
    return page.items.flatMap((d) => ('attempts' in d.body ? d.body.attempts : [d.body])).slice(0, limit);
  }

  /** Deletes what lies beyond the newest MAX_ATTEMPTS_KEPT (one page of them per call). */
  private async prune(subscriptionId: string): Promise<void> {
    const pk = attemptPartition(subscriptionId);
    const kept = await this.store.query({ pk, type: ATTEMPT_TYPE, limit: MAX_ATTEMPTS_KEPT });
    if (!kept.continuation) return;
    const beyond = await this.store.query({
      pk,
      type: ATTEMPT_TYPE,
      limit: MAX_ATTEMPTS_KEPT,
      continuation: kept.continuation,
    });
    // A transaction per 100 deletes instead of one per delete; a batch that meets an attempt another
    // instance pruned first (not-found) is done one by one.
    for (let i = 0; i < beyond.items.length; i += BATCH) {
      const ids = beyond.items.slice(i, i + BATCH).map((doc) => doc.id);
      try {
        await this.store.batch(
          pk,
          ids.map((id) => ({ op: 'delete' as const, id })),
        );
      } catch (error) {
        if (!isStoreError(error, 'not-found')) throw error;
        for (const id of ids)
          await this.store.delete(pk, id).catch((failure: unknown) => {
            if (!isStoreError(failure, 'not-found')) throw failure;
          });
      }
    }
  }
}

/** One attempt as stored; a batch's carry the time of its first (they share the POST's). */
function asRecord(attempt: DeliveryAttempt | readonly DeliveryAttempt[]): AttemptRecord | undefined {
  if (!Array.isArray(attempt)) return attempt as DeliveryAttempt;
  const list = attempt as readonly DeliveryAttempt[];
  const first = list[0];
  return first && { at: first.at, attempts: [...list] };
}
