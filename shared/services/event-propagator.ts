import { randomInt } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { MessageSender, OutgoingMessage } from '../ports/message-sender';
import { EVENTS_TOPIC } from '../domain/bus-topology';
import {
  EVENT_MARK_DOC_TYPE,
  eventMarkDocId,
  toBusMessage,
  withSequence,
  type EventMarkBody,
} from '../domain/cloud-event';
import { eventRefusalReason } from './bus-refusals';

export { eventRefusalReason } from './bus-refusals';
import type { EventLog } from './event-log';
import type { EventMetrics } from './event-metrics';
import type { OutboxItem } from './event-outbox';
import type { EventPublisher, PendingStatus, PropagateOptions, PropagationOutcome } from './event-publisher';
import type { EventQuarantine } from './event-quarantine';

export type { PropagateOptions } from './event-publisher';

export interface EventPropagatorOptions {
  /** The events' collection (where the publication marks go too). */
  store: DocumentCollection;
  sender: MessageSender;
  clock: Clock;
  metrics: EventMetrics;
  /** How long publication marks are kept (the events' retention). */
  retentionSeconds: number;
  /** The committed events, for the sweeper and the pending scan. */
  log: EventLog;
  quarantine: EventQuarantine;
  warn?: (message: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where the bus refused an event, in quarantine entries. */
export const BUS_REFUSAL = 'bus';

/**
 * Moves committed events to a broker (the 'bus' topic, see ./event-publisher.ts). An event is
 * marked published only after the bus accepted it; a mark is a separate document so that the
 * event document, and with it its sequence, never changes. The fast path, the change feed and the
 * sweeper may all propagate the same event: the bus drops the duplicate by messageId and the second
 * mark finds the first. An event the bus refuses for a reason of its own is quarantined (and marked,
 * so nothing retries it) without holding back the others of its batch.
 */
export class EventPropagator implements EventPublisher {
  readonly topic = 'bus' as const;
  private buffered: OutboxItem[] = [];
  /** Fast-path sends not yet settled, so shutdown can let them finish before the bus closes. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: EventPropagatorOptions) {}

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
        this.o.warn?.(
          `fast-path publish of ${items.length} event(s) failed (the change feed will retry): ${String(error)}`,
        ),
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  async drain(): Promise<void> {
    this.flushSoon();
    await Promise.all([...this.inFlight]);
  }

  async isPublished(item: Pick<OutboxItem, 'pk' | 'docId'>): Promise<boolean> {
    return (await this.o.store.read(item.pk, eventMarkDocId(item.docId))) !== undefined;
  }

  async propagate(items: OutboxItem[], options: PropagateOptions = {}): Promise<PropagationOutcome> {
    const pending: OutboxItem[] = [];
    if (options.fresh) pending.push(...items);
    else for (const item of items) if (!(await this.isPublished(item))) pending.push(item);
    const outcome: PropagationOutcome = {
      published: 0,
      alreadyPublished: items.length - pending.length,
      quarantined: 0,
    };
    if (pending.length === 0) return outcome;

    const messages = pending.map((item) => toBusMessage(withSequence(item.body.event, item.seq)));
    try {
      await this.send(messages, options.attempts ?? 1);
      await this.published(pending);
      outcome.published = pending.length;
      return outcome;
    } catch (batchError) {
      if (pending.length === 1 && eventRefusalReason(batchError) === undefined) throw batchError;
    }
    // The batch failed: one event at a time, so that one refused event costs only itself.
    const accepted: OutboxItem[] = [];
    let failure: unknown;
    for (const [index, item] of pending.entries()) {
      try {
        await this.send([messages[index] as OutgoingMessage], 1);
        accepted.push(item);
      } catch (error) {
        const reason = eventRefusalReason(error);
        if (reason === undefined) {
          failure ??= error;
          continue;
        }
        await this.quarantine(item, reason);
        outcome.quarantined += 1;
      }
    }
    await this.published(accepted);
    outcome.published = accepted.length;
    // What failed for a passing reason stays unmarked: the change feed and the sweeper retry it.
    if (failure !== undefined) throw failure;
    return outcome;
  }

  async sweep(graceMs: number): Promise<PropagationOutcome> {
    const scan = await this.o.log.scanPending(this, { olderThanMs: graceMs, advanceCheckpoint: true });
    if (scan.pending.length === 0) return { published: 0, alreadyPublished: 0, quarantined: 0 };
    return this.propagate(scan.pending, { attempts: 3 });
  }

  async pending(): Promise<PendingStatus> {
    const scan = await this.o.log.scanPending(this);
    return {
      pendingEvents: scan.pending.length,
      ...(scan.oldestPendingAt !== undefined ? { oldestPendingAt: scan.oldestPendingAt } : {}),
      scannedEvents: scan.scanned,
    };
  }

  /** Publishes a quarantined event again; throws what the bus says if it still refuses. */
  async redeliver(item: OutboxItem): Promise<void> {
    await this.send([toBusMessage(withSequence(item.body.event, item.seq))], 1);
    // The quarantine mark becomes a publication mark.
    const now = this.o.clock.now();
    await this.o.store.upsert(
      item.pk,
      {
        id: eventMarkDocId(item.docId),
        type: EVENT_MARK_DOC_TYPE,
        body: { eventId: item.body.event.id, publishedAt: now } satisfies EventMarkBody,
      },
      { ttlSeconds: this.o.retentionSeconds },
    );
    this.o.metrics.recordPublished(Math.max(0, now - item.body.committedAt));
  }

  private async send(messages: OutgoingMessage[], attempts: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.sender.send(EVENTS_TOPIC, messages);
        return;
      } catch (error) {
        this.o.metrics.recordFailure();
        // A refusal of the message itself does not change with time.
        if (attempt >= attempts || eventRefusalReason(error) !== undefined) throw error;
        // Exponential backoff with full jitter: 100 ms, 200 ms, 400 ms … capped at 5 s.
        await sleep(randomInt(0, Math.min(5_000, 100 * 2 ** (attempt - 1)) + 1));
      }
    }
  }

  private async published(items: OutboxItem[]): Promise<void> {
    if (items.length === 0) return;
    const publishedAt = this.o.clock.now();
    await this.mark(items, { publishedAt });
    for (const item of items)
      this.o.metrics.recordPublished(Math.max(0, publishedAt - item.body.committedAt));
  }

  private async quarantine(item: OutboxItem, reason: string): Promise<void> {
    await this.o.quarantine.add(item, BUS_REFUSAL, reason);
    // The mark says "handled": the change feed, the sweeper and lockstep stop retrying it.
    await this.mark([item], { publishedAt: this.o.clock.now(), quarantined: true });
    this.o.metrics.recordQuarantined();
    this.o.warn?.(`event ${item.body.event.id} quarantined: ${reason}`);
  }

  private async mark(items: OutboxItem[], fields: Omit<EventMarkBody, 'eventId'>): Promise<void> {
    const byPartition = new Map<string, OutboxItem[]>();
    for (const item of items) byPartition.set(item.pk, [...(byPartition.get(item.pk) ?? []), item]);
    for (const [pk, group] of byPartition) {
      const ops = group.map((item) => ({
        op: 'create' as const,
        id: eventMarkDocId(item.docId),
        type: EVENT_MARK_DOC_TYPE,
        body: { eventId: item.body.event.id, ...fields } satisfies EventMarkBody,
        ttlSeconds: this.o.retentionSeconds,
      }));
      try {
        for (let i = 0; i < ops.length; i += 100) await this.o.store.batch(pk, ops.slice(i, i + 100));
      } catch (error) {
        if (!isStoreError(error, 'conflict')) throw error;
        // Another path marked some of them first: mark the rest one by one.
        for (const op of ops) {
          try {
            await this.o.store.create(
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
