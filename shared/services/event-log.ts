import type { Clock } from '../ports/clock';
import type { DocumentCollection, StoredDocument } from '../ports/document-store';
import {
  EVENT_DOC_TYPE,
  formatSequence,
  parseSequence,
  withSequence,
  type BridgeCloudEvent,
  type EventDocumentBody,
} from '../domain/cloud-event';
import { ServiceError } from './errors';
import type { EventPropagator } from './event-propagator';
import type { OutboxItem } from './event-outbox';

export interface ReplayQuery {
  after?: string;
  types?: readonly string[];
  subject?: string;
  limit: number;
  /** Only events this returns true for (access-policy eventFilterFor(principal).matches). */
  visible?: (event: BridgeCloudEvent) => boolean;
}

export interface ReplayPage {
  events: BridgeCloudEvent[];
  /** Pass as `after` to continue; every event committed later has a greater sequence. */
  next: string;
}

export interface PendingScan {
  pending: OutboxItem[];
  /** Epoch ms of the oldest unpublished event, if any. */
  oldestPendingAt?: number;
  scanned: number;
}

const SWEEPER_PK = 'sweeper';
const SWEEPER_CHECKPOINT_ID = 'checkpoint';
/** How many event documents one replay call or sweep may read, so no call runs unbounded. */
const MAX_SCAN = 5_000;

function toItem(doc: StoredDocument<EventDocumentBody>): OutboxItem | undefined {
  return doc.seq === undefined ? undefined : { pk: doc.pk, docId: doc.id, seq: doc.seq, body: doc.body };
}

/**
 * The committed events in commit order, read from the store's change feed of event documents
 * (which are never rewritten, so each appears once, at its own sequence).
 */
export class EventLog {
  constructor(
    private readonly store: DocumentCollection,
    private readonly clock: Clock,
  ) {}

  /** Events retained in the store (published or not). */
  async count(): Promise<number> {
    return this.store.count({ type: EVENT_DOC_TYPE });
  }

  async replay(query: ReplayQuery): Promise<ReplayPage> {
    let cursor = query.after === undefined ? 0 : parseSequence(query.after);
    if (cursor === undefined) {
      throw new ServiceError('validation', 'after must be a sequence returned by this API.', [
        { path: 'after', message: 'must be a decimal sequence number' },
      ]);
    }
    const events: BridgeCloudEvent[] = [];
    let scanned = 0;
    while (events.length < query.limit && scanned < MAX_SCAN) {
      const page = await this.store.changeFeed({
        continuation: String(cursor),
        maxItems: Math.min(1000, Math.max(query.limit - events.length, 100)),
        types: [EVENT_DOC_TYPE],
      });
      if (page.items.length === 0) break;
      for (const doc of page.items) {
        scanned += 1;
        const item = toItem(doc as StoredDocument<EventDocumentBody>);
        if (!item) continue;
        cursor = item.seq;
        const event = item.body.event;
        if (query.types && !query.types.includes(event.type)) continue;
        if (query.subject !== undefined && event.subject !== query.subject) continue;
        const sequenced = withSequence(event, item.seq);
        if (query.visible && !query.visible(sequenced)) continue;
        events.push(sequenced);
        if (events.length >= query.limit) break;
      }
    }
    return { events, next: formatSequence(cursor) };
  }

  /**
   * Walks events after the sweeper's checkpoint and returns those not yet published. The
   * checkpoint moves past the leading run of published events only, so nothing is ever skipped.
   */
  async scanPending(
    propagator: EventPropagator,
    options: { olderThanMs?: number; advanceCheckpoint?: boolean } = {},
  ): Promise<PendingScan> {
    const checkpoint = await this.store.read<{ continuation: string }>(SWEEPER_PK, SWEEPER_CHECKPOINT_ID);
    let continuation = checkpoint?.body.continuation ?? '0';
    let leadingRunEnd = continuation;
    let leadingRun = true;
    const pending: OutboxItem[] = [];
    let oldestPendingAt: number | undefined;
    let scanned = 0;
    const cutoff = this.clock.now() - (options.olderThanMs ?? 0);
    while (scanned < MAX_SCAN) {
      const page = await this.store.changeFeed({
        continuation,
        maxItems: 500,
        types: [EVENT_DOC_TYPE],
      });
      if (page.items.length === 0) break;
      for (const doc of page.items) {
        scanned += 1;
        const item = toItem(doc as StoredDocument<EventDocumentBody>);
        if (!item) continue;
        if (await propagator.isPublished(item)) {
          if (leadingRun) leadingRunEnd = String(item.seq);
          continue;
        }
        leadingRun = false;
        oldestPendingAt = Math.min(oldestPendingAt ?? Infinity, item.body.committedAt);
        if (item.body.committedAt <= cutoff) pending.push(item);
      }
      continuation = page.continuation;
    }
    if (options.advanceCheckpoint && leadingRunEnd !== (checkpoint?.body.continuation ?? '0')) {
      await this.store.upsert(SWEEPER_PK, {
        id: SWEEPER_CHECKPOINT_ID,
        type: 'sweeper-checkpoint',
        body: { continuation: leadingRunEnd },
      });
    }
    return { pending, oldestPendingAt, scanned };
  }
}
