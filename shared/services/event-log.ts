import type { Clock } from '../ports/clock';
import { StoreError, type DocumentCollection, type StoredDocument } from '../ports/document-store';
import {
  EVENT_DOC_TYPE,
  withSequence,
  type BridgeCloudEvent,
  type EventDocumentBody,
} from '../domain/cloud-event';
import {
  advance,
  alignCursor,
  BEGINNING,
  formatCursor,
  FULL_RANGE,
  isBeginning,
  parseCursor,
  positionIn,
  rangeKey,
  type CursorKind,
  type EventCursor,
  type FeedRangeBounds,
} from '../domain/event-cursor';
import { ServiceError } from './errors';
import { eventFeedOf, type EventFeed } from './event-feed';
import type { EventPublisher } from './event-publisher';
import type { OutboxItem } from './event-outbox';

export interface ReplayQuery {
  after?: string;
  types?: readonly string[];
  subject?: string;
  limit: number;
  /**
   * What the caller may see (access-policy eventFilterFor(principal).matches); events it may not
   * are skipped like filtered ones.
   */
  visible?: (event: BridgeCloudEvent) => boolean;
}

export interface ReplayPage {
  events: BridgeCloudEvent[];
  /** Pass as `after` to continue; every event committed later comes after it. */
  next: string;
}

export interface PendingScan {
  pending: OutboxItem[];
  /** Epoch ms of the oldest unpublished event, if any. */
  oldestPendingAt?: number;
  scanned: number;
}

/** One committed event as the log reads it, with the cursor that stands right after it. */
export interface LogEntry {
  event: BridgeCloudEvent;
  range: FeedRangeBounds;
  /** Its position in its range (its `sequence`). */
  lsn: number;
  /** The reader's cursor moved past this event (and everything before it). */
  cursor: EventCursor;
  item: OutboxItem;
}

export interface LogRead {
  entries: LogEntry[];
  /** Where to read on from: past every returned entry (and, when caught up, past everything read). */
  next: EventCursor;
  /** Every range was read to its end: `next` covers everything committed before the read began. */
  caughtUp: boolean;
  /** The ranges this read used (cursors in the answer are aligned to them). */
  ranges: readonly FeedRangeBounds[];
}

export interface EventLogOptions {
  /** BRIDGE_EVENT_RETENTION_DAYS in seconds: older events are gone, so are older cursors. */
  retentionSeconds: number;
}

const SWEEPER_PK = 'sweeper';
const SWEEPER_CHECKPOINT_ID = 'checkpoint';
/** How many event documents one replay call or sweep may read, so no call runs unbounded. */
const MAX_SCAN = 5_000;
/** Attempts at one read while the store's ranges keep changing under it (splits). */
const RANGE_ATTEMPTS = 3;
/**
 * A partitioned cursor counts as expired this long before the retention: its time is the newest
 * event it passed, and an event in a lagging range may be a little older.
 */
const EXPIRY_MARGIN_MS = 60 * 60 * 1000;

interface RangeQueue {
  range: FeedRangeBounds;
  items: OutboxItem[];
  next: number;
  full: boolean;
  position: number;
}

/**
 * The committed events in commit order, read from the store's change feed of event documents
 * (which are never rewritten, so each appears once, at its own position). Within a feed range the
 * order is the store's; across ranges events are merged by commit time. The cursor (event-cursor.ts)
 * holds a position per range, so paging never skips or repeats an event, on one range or many.
 */
export class EventLog {
  private readonly feed: EventFeed;

  constructor(
    private readonly store: DocumentCollection,
    private readonly clock: Clock,
    private readonly options: EventLogOptions = { retentionSeconds: 7 * 86_400 },
  ) {
    this.feed = eventFeedOf(store);
  }

  /** How this store's cursors are written: plain sequences or opaque per-range cursors. */
  get cursorKind(): CursorKind {
    return this.feed.kind;
  }

  /** Events retained in the store (published or not). */
  async count(): Promise<number> {
    return this.store.count({ type: EVENT_DOC_TYPE });
  }

  /** The cursor a client sent; a 400 naming `field` when it is not one of this store's cursors. */
  parseCursor(text: string, field = 'after'): EventCursor {
    const cursor = parseCursor(text, this.feed.kind);
    if (!cursor) {
      throw new ServiceError('validation', `${field} must be a cursor returned by this API.`, [
        {
          path: field,
          message:
            this.feed.kind === 'sequence'
              ? 'must be a decimal sequence number (0 = the beginning)'
              : 'must be an opaque cursor returned by this API (0 = the beginning)',
        },
      ]);
    }
    return cursor;
  }

  formatCursor(cursor: EventCursor): string {
    return formatCursor(cursor, this.feed.kind);
  }

  /** Where the sweeper stands: every event at or below it was published (0: from the start). */
  async sweeperCheckpoint(): Promise<number> {
    const doc = await this.store.read<{ continuation: string }>(SWEEPER_PK, SWEEPER_CHECKPOINT_ID);
    // Sequence stores only (the outbox topic is the embedded bus's): their cursor is one position.
    const cursor = doc ? parseCursor(doc.body.continuation, 'sequence') : undefined;
    return cursor ? positionIn(cursor, FULL_RANGE) : 0;
  }

  /**
   * Reads up to `maxItems` events after `after`, merged across ranges by commit time. A range whose
   * page came back full stops the merge when it runs dry (its next events may be older than the
   * other ranges' remaining ones), so the answer may hold fewer events; `caughtUp` tells the rest.
   */
  async read(after: EventCursor, maxItems: number): Promise<LogRead> {
    const readAt = this.clock.now();
    let ranges = await this.feed.ranges();
    let pages;
    for (let attempt = 1; ; attempt++) {
      const aligned = alignCursor(after, ranges);
      pages = await Promise.all(
        ranges.map((range) => this.feed.read(range, positionIn(aligned, range), maxItems)),
      );
      if (!pages.some((page) => page.gone)) break;
      if (attempt >= RANGE_ATTEMPTS) {
        throw new StoreError('unavailable', 'the feed ranges kept changing during a read');
      }
      ranges = await this.feed.ranges(true);
    }
    let cursor = alignCursor(after, ranges);
    const queues: RangeQueue[] = ranges.map((range, i) => {
      const page = pages[i] as (typeof pages)[number];
      return {
        range,
        items: page.items.flatMap((doc) => toItem(doc as StoredDocument<EventDocumentBody>) ?? []),
        next: 0,
        full: page.items.length >= maxItems || page.more === true,
        position: page.position,
      };
    });
    const entries: LogEntry[] = [];
    let stalled = false;
    while (entries.length < maxItems) {
      let pick: RangeQueue | undefined;
      for (const queue of queues) {
        const head = queue.items[queue.next];
        if (!head) continue;
        const best = pick?.items[pick.next];
        if (!best || head.body.committedAt < best.body.committedAt) pick = queue;
      }
      if (!pick) break;
      const item = pick.items[pick.next] as OutboxItem;
      pick.next += 1;
      cursor = advance(cursor, pick.range, item.seq, item.body.committedAt);
      entries.push({
        event: withSequence(item.body.event, item.seq),
        range: pick.range,
        lsn: item.seq,
        cursor,
        item,
      });
      if (pick.next >= pick.items.length && pick.full) {
        stalled = true;
        break;
      }
    }
    let caughtUp = !stalled;
    for (const queue of queues) {
      if (queue.next < queue.items.length || queue.full) caughtUp = false;
      // A range read to the end of its page moves on to the page's position.
      if (queue.next >= queue.items.length) cursor = advance(cursor, queue.range, queue.position);
    }
    if (caughtUp && this.feed.kind === 'ranges')
      cursor = { ...cursor, asOf: Math.max(readAt, cursor.asOf ?? 0) };
    return { entries, next: cursor, caughtUp, ranges };
  }

  /**
   * A cursor at the end of the log now: every event committed after it is read after it. On a
   * sequence store it is the last retained event's position (or the beginning), so that it stays
   * checkable against retention; on a partitioned store, every range's current position.
   */
  async head(): Promise<EventCursor> {
    if (this.feed.kind === 'sequence') {
      const last = await this.lastSequence();
      return last === 0 ? BEGINNING : { ranges: [{ ...FULL_RANGE, lsn: last }] };
    }
    for (let attempt = 1; ; attempt++) {
      const readAt = this.clock.now();
      const ranges = await this.feed.ranges(attempt > 1);
      const pages = await Promise.all(ranges.map((range) => this.feed.read(range, 'now', 1)));
      if (!pages.some((page) => page.gone)) {
        return {
          ranges: ranges.map((range, i) => ({ ...range, lsn: pages[i]?.position ?? 0 })),
          asOf: readAt,
        };
      }
      if (attempt >= RANGE_ATTEMPTS) throw new StoreError('unavailable', 'the feed ranges kept changing');
    }
  }

  /**
   * Whether events after the cursor may already be gone (older than the retention): a sequence
   * cursor names an event, which must still be retained; a partitioned cursor carries its time.
   * The beginning never expires: it means "everything retained".
   */
  async isExpired(cursor: EventCursor): Promise<boolean> {
    if (isBeginning(cursor)) return false;
    if (this.feed.kind === 'sequence') {
      const seq = positionIn(cursor, FULL_RANGE);
      const page = await this.feed.read(FULL_RANGE, seq - 1, 1);
      return page.items[0]?.seq !== seq;
    }
    if (cursor.asOf === undefined) return true;
    return cursor.asOf < this.clock.now() - this.options.retentionSeconds * 1000 + EXPIRY_MARGIN_MS;
  }

  async replay(query: ReplayQuery): Promise<ReplayPage> {
    let cursor = query.after === undefined ? BEGINNING : this.parseCursor(query.after);
    const events: BridgeCloudEvent[] = [];
    let scanned = 0;
    while (events.length < query.limit && scanned < MAX_SCAN) {
      const read = await this.read(cursor, Math.min(1000, Math.max(query.limit - events.length, 100)));
      let stoppedEarly = false;
      for (const entry of read.entries) {
        scanned += 1;
        cursor = entry.cursor;
        if (matches(entry.event, query)) events.push(entry.event);
        if (events.length >= query.limit) {
          stoppedEarly = true;
          break;
        }
      }
      if (stoppedEarly) break;
      cursor = read.next;
      if (read.caughtUp || read.entries.length === 0) break;
    }
    return { events, next: this.formatCursor(cursor) };
  }

  /**
   * Walks events after the sweeper's checkpoint and returns those not yet published. In each range
   * the checkpoint moves past the leading run of published events only, so nothing is ever skipped.
   */
  async scanPending(
    propagator: Pick<EventPublisher, 'isPublished'>,
    options: { olderThanMs?: number; advanceCheckpoint?: boolean } = {},
  ): Promise<PendingScan> {
    const stored = await this.store.read<{ continuation: string }>(SWEEPER_PK, SWEEPER_CHECKPOINT_ID);
    const storedText = stored?.body.continuation ?? '0';
    // A checkpoint this store cannot read (an older format) starts the walk over: it only costs reads.
    let cursor = parseCursor(storedText, this.feed.kind) ?? BEGINNING;
    let checkpoint = cursor;
    const blocked = new Set<string>();
    const pending: OutboxItem[] = [];
    let oldestPendingAt: number | undefined;
    let scanned = 0;
    const cutoff = this.clock.now() - (options.olderThanMs ?? 0);
    while (scanned < MAX_SCAN) {
      const read = await this.read(cursor, 500);
      checkpoint = alignCursor(checkpoint, read.ranges);
      for (const entry of read.entries) {
        scanned += 1;
        const key = rangeKey(entry.range);
        if (await propagator.isPublished(entry.item)) {
          if (!blocked.has(key)) checkpoint = advance(checkpoint, entry.range, entry.lsn);
          continue;
        }
        blocked.add(key);
        oldestPendingAt = Math.min(oldestPendingAt ?? Infinity, entry.item.body.committedAt);
        if (entry.item.body.committedAt <= cutoff) pending.push(entry.item);
      }
      cursor = read.next;
      if (read.caughtUp || read.entries.length === 0) break;
    }
    const checkpointText = this.formatCursor(checkpoint);
    if (options.advanceCheckpoint && checkpointText !== storedText) {
      await this.store.upsert(SWEEPER_PK, {
        id: SWEEPER_CHECKPOINT_ID,
        type: 'sweeper-checkpoint',
        body: { continuation: checkpointText },
      });
    }
    return { pending, oldestPendingAt, scanned };
  }

  /**
   * The last event's sequence on a sequence store (0 when there is none): galloping, then halving,
   * with one-item reads ("the first event after N"), so it costs O(log n) reads, not a walk.
   * `from`: a sequence known to be committed already (the search starts there).
   */
  async lastSequence(from = 0): Promise<number> {
    let known = from;
    let bound = Number.MAX_SAFE_INTEGER;
    let step = 1024;
    while (known < bound) {
      const probe = bound === Number.MAX_SAFE_INTEGER ? known + step : known + Math.ceil((bound - known) / 2);
      const page = await this.feed.read(FULL_RANGE, probe - 1, 1);
      const found = page.items[0]?.seq;
      if (found !== undefined && found >= probe) {
        known = found;
        step *= 2;
      } else {
        bound = probe - 1;
      }
    }
    return known;
  }
}

function matches(event: BridgeCloudEvent, query: Omit<ReplayQuery, 'after' | 'limit'>): boolean {
  if (query.types && !query.types.includes(event.type)) return false;
  if (query.subject !== undefined && event.subject !== query.subject) return false;
  return query.visible ? query.visible(event) : true;
}

function toItem(doc: StoredDocument<EventDocumentBody>): OutboxItem | undefined {
  return doc.seq === undefined ? undefined : { pk: doc.pk, docId: doc.id, seq: doc.seq, body: doc.body };
}
