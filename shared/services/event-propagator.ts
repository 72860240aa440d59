import { randomInt } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { MessageSender } from '../ports/message-sender';
import { EVENTS_TOPIC } from '../domain/bus-topology';
import {
  EVENT_MARK_DOC_TYPE,
  eventMarkDocId,
  toBusMessage,
  withSequence,
  type EventMarkBody,
} from '../domain/cloud-event';
import type { EventMetrics } from './event-metrics';
import type { OutboxItem } from './event-outbox';

export interface PropagateOptions {
  /** Attempts at sending before giving up (the sweeper picks up what is left). */
  attempts?: number;
  /** The items were committed moments ago by this instance: skip the "already published?" reads. */
  fresh?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What EventPropagator is built from (the composition root passes these). */
export interface EventPropagatorDeps {
  store: DocumentCollection;
  sender: MessageSender;
  clock: Clock;
  metrics: EventMetrics;
  retentionSeconds: number;
}

/**
 * Moves committed events to the bus. An event is marked published only after the bus accepted it;
 * a mark is a separate document so that the event document, and with it its sequence, never
 * changes. The fast path, the change feed and the sweeper may all propagate the same event: the
 * bus drops the duplicate by messageId and the second mark finds the first.
 */
export class EventPropagator {
  private readonly store: DocumentCollection;
  private readonly sender: MessageSender;
  private readonly clock: Clock;
  private readonly metrics: EventMetrics;
  private readonly retentionSeconds: number;

  constructor(deps: EventPropagatorDeps) {
    this.store = deps.store;
    this.sender = deps.sender;
    this.clock = deps.clock;
    this.metrics = deps.metrics;
    this.retentionSeconds = deps.retentionSeconds;
  }

  private buffered: OutboxItem[] = [];
  /** Fast-path sends not yet settled, so shutdown can let them finish before the bus closes. */
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * The fast path: events committed during this event-loop turn go to the bus together at its end
   * (one send, one mark batch per partition). Failures only cost latency: the change feed and the
   * sweeper publish whatever this misses.
   */
  publishSoon(items: OutboxItem[]): void {
    if (this.buffered.length === 0) setImmediate(() => this.flushSoon());
    this.buffered.push(...items);
  }

  private flushSoon(): void {
    const items = this.buffered;
    this.buffered = [];
    if (items.length === 0) return;
    const work = this.propagate(items, { fresh: true }).then(
      () => undefined,
      (error: unknown) =>
        console.warn(
          `fast-path publish of ${items.length} event(s) failed (the change feed will retry): ${String(error)}`,
        ),
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Publishes what the fast path still holds and waits for it: call before closing the bus. */
  async drain(): Promise<void> {
    this.flushSoon();
    await Promise.all([...this.inFlight]);
  }

  async isPublished(item: Pick<OutboxItem, 'pk' | 'docId'>): Promise<boolean> {
    return (await this.store.read(item.pk, eventMarkDocId(item.docId))) !== undefined;
  }

  /** Publishes the items not yet marked; resolves when they are on the bus and marked. */
  async propagate(
    items: OutboxItem[],
    options: PropagateOptions = {},
  ): Promise<{ published: number; alreadyPublished: number }> {
    const pending: OutboxItem[] = [];
    if (options.fresh) pending.push(...items);
    else for (const item of items) if (!(await this.isPublished(item))) pending.push(item);
    if (pending.length === 0) return { published: 0, alreadyPublished: items.length };

    const messages = pending.map((item) => toBusMessage(withSequence(item.body.event, item.seq)));
    const attempts = options.attempts ?? 1;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sender.send(EVENTS_TOPIC, messages);
        break;
      } catch (error) {
        this.metrics.recordFailure();
        if (attempt >= attempts) throw error;
        // Exponential backoff with full jitter: 100 ms, 200 ms, 400 ms … capped at 5 s.
        await sleep(randomInt(0, Math.min(5_000, 100 * 2 ** (attempt - 1)) + 1));
      }
    }
    const publishedAt = this.clock.now();
    await this.mark(pending, publishedAt);
    for (const item of pending)
      this.metrics.recordPublished(Math.max(0, publishedAt - item.body.committedAt));
    return { published: pending.length, alreadyPublished: items.length - pending.length };
  }

  private async mark(items: OutboxItem[], publishedAt: number): Promise<void> {
    const byPartition = new Map<string, OutboxItem[]>();
    for (const item of items) byPartition.set(item.pk, [...(byPartition.get(item.pk) ?? []), item]);
    for (const [pk, group] of byPartition) {
      const ops = group.map((item) => ({
        op: 'create' as const,
        id: eventMarkDocId(item.docId),
        type: EVENT_MARK_DOC_TYPE,
        body: { eventId: item.body.event.id, publishedAt } satisfies EventMarkBody,
        ttlSeconds: this.retentionSeconds,
      }));
      try {
        for (let i = 0; i < ops.length; i += 100) await this.store.batch(pk, ops.slice(i, i + 100));
      } catch (error) {
        if (!isStoreError(error, 'conflict')) throw error;
        // Another path marked some of them first: mark the rest one by one.
        for (const op of ops) {
          try {
            await this.store.create(
              pk,
              { id: op.id, type: op.type, body: op.body },
              { ttlSeconds: op.ttlSeconds },
            );
          } catch (e) {
            if (!isStoreError(e, 'conflict')) throw e;
          }
        }
      }
    }
  }
}
