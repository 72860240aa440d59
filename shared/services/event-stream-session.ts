import type { Clock } from '../ports/clock';
import type { BridgeCloudEvent } from '../domain/cloud-event';
import { advance, covers, coversCursor, type EventCursor } from '../domain/event-cursor';
import type { EventLog, LogEntry } from './event-log';
import type { EventStreamHub, HubRegistration, HubSubscriber } from './event-stream-hub';
import { EntryRunQueue } from './entry-run-queue';

/** Why a stream ended with a `close` frame (the client resumes from its cursor). */
export type CloseReason = 'lagging' | 'max-duration' | 'shutdown';

/** What one stream sends, in order: [reset] ready, events and heartbeats, [close]. */
export type StreamMessage =
  | { kind: 'reset'; reason: 'cursor-expired'; after: string }
  | { kind: 'ready'; cursor: string; resumed: boolean }
  /** `shared`: the cursor is the entry's own (the same for every stream), so the frame may be reused. */
  | { kind: 'event'; entry: LogEntry; cursor: string; shared: boolean }
  /**
   * Live events whose cursors are their own, in log order (`next()` with `runMax` > 1): each frame
   * is the same for every stream, and so is the run's when streams keep step. `idOf` gives an
   * entry's cursor.
   */
  | { kind: 'events'; entries: readonly LogEntry[]; cursor: string; idOf: (entry: LogEntry) => string }
  | { kind: 'heartbeat' }
  | { kind: 'close'; reason: CloseReason; cursor: string };

export interface StreamFilter {
  types?: readonly string[];
  subject?: string;
  /** What the caller may see (access-policy.ts `eventFilterFor`). */
  visible?: (event: BridgeCloudEvent) => boolean;
  /**
   * Names this filter: streams whose filters have the same key must accept the same events (the
   * hub filters each read once per key). None: filtered on its own.
   */
  key?: string;
}

export interface StreamLimits {
  /** A heartbeat comment after this long without a frame. */
  heartbeatMs: number;
  /** The stream ends (with `close`, reason `max-duration`) after this long; clients resume. */
  maxDurationMs: number;
  /** Events waiting for a consumer that reads too slowly; one more and the stream is closed. */
  maxLagEvents: number;
}

export interface OpenStreamOptions {
  hub: EventStreamHub;
  log: EventLog;
  clock: Clock;
  filter: StreamFilter;
  /** The client's cursor (Last-Event-ID or `after`); none = start at the live position. */
  after?: EventCursor;
  limits: StreamLimits;
  /**
   * Live events sent as one `events` message at most, once the stream keeps step with the hub
   * (a consumer that writes many frames at once); default 1: one `event` message each.
   */
  runMax?: number;
}

/** A replayed entry: the stream's cursor after it, and its frame unless the filter skips it. */
interface ReplayItem {
  cursor: EventCursor;
  message?: Extract<StreamMessage, { kind: 'event' }>;
}

/** Replay rounds (each after the live queue overflowed during replay) before a stream counts as lagging. */
const MAX_CATCH_UP_ROUNDS = 3;
const REPLAY_BATCH = 200;

/** The text of a live entry's own cursor, made once however many streams send it. */
const sharedCursorTexts = new WeakMap<LogEntry, string>();

export function matchesFilter(event: BridgeCloudEvent, filter: StreamFilter): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.subject !== undefined && event.subject !== filter.subject) return false;
  return filter.visible ? filter.visible(event) : true;
}

/**
 * One event stream: registered with the hub before anything is sent, then `ready`, then the events
 * between the client's cursor and the hub's position (read from the log, at the client's pace),
 * then live events from the hub. Live events already passed by the replay are dropped by cursor, so
 * none is sent twice and none is skipped. Memory is bounded: at most `maxLagEvents` live events wait
 * for the consumer (shared with every other stream); past that the stream ends with `close` naming
 * its cursor. Pull-driven: nothing is produced faster than the consumer reads.
 */
export class EventStreamSession implements HubSubscriber, AsyncIterable<StreamMessage> {
  private registration: HubRegistration | undefined;
  private target: EventCursor = { ranges: [] };
  private cursor: EventCursor = { ranges: [] };
  private resetFrom: string | undefined;
  private resumed = false;
  private readonly queue = new EntryRunQueue();
  /** The replay read being sent, and how far it has been handed out. */
  private replayed: ReplayItem[] = [];
  private replayedHead = 0;
  private live = false;
  /** Set when live: the session's cursor covers the hub position its queue starts after. */
  private aligned = false;
  /**
   * The cursor is the hub's own, after the last event taken: every queued event comes after it in
   * the hub's order, so none is covered and each one's cursor stands for the stream's.
   */
  private atHub = false;
  private overflowed = false;
  private ending: CloseReason | 'cancelled' | undefined;
  private wake: (() => void) | undefined;
  private finished = false;
  private readonly deadline: number;
  private readonly iterator: AsyncGenerator<StreamMessage>;

  private constructor(private readonly options: OpenStreamOptions) {
    this.deadline = options.clock.now() + options.limits.maxDurationMs;
    this.iterator = this.run();
  }

  /**
   * Opens a stream: checks the client's cursor against retention and registers with the hub.
   * Store failures surface here (before any byte is sent), so the caller can answer 503.
   */
  static async open(options: OpenStreamOptions): Promise<EventStreamSession> {
    const session = new EventStreamSession(options);
    let after = options.after;
    if (after && (await options.log.isExpired(after))) {
      session.resetFrom = options.log.formatCursor(after);
      after = undefined;
    }
    const registration = await options.hub.subscribe(session);
    session.registration = registration;
    session.target = registration.position;
    session.cursor = after ?? registration.position;
    session.resumed = after !== undefined;
    return session;
  }

  [Symbol.asyncIterator](): AsyncGenerator<StreamMessage> {
    return this.iterator;
  }

  next(): Promise<IteratorResult<StreamMessage>> {
    return this.iterator.next();
  }

  /** The consumer went away: stop at once (no closing frame; there is no one to read it). */
  cancel(): void {
    this.ending ??= 'cancelled';
    this.finish();
    this.wake?.();
    void this.iterator.return(undefined);
  }

  // HubSubscriber
  get filterKey(): string | undefined {
    return this.options.filter.key;
  }

  accepts(entry: LogEntry): boolean {
    return matchesFilter(entry.event, this.options.filter);
  }

  deliver(entries: readonly LogEntry[]): void {
    if (this.ending || this.overflowed) return;
    if (this.queue.length + entries.length > this.options.limits.maxLagEvents) {
      this.queue.clear();
      // Behind while live: close with the cursor. Behind during replay: replay further instead.
      if (this.live) this.endLagging();
      else this.overflowed = true;
      this.wake?.();
      return;
    }
    this.queue.push(entries);
    this.wake?.();
  }

  get queuedEvents(): number {
    return this.queue.length;
  }

  /** The consumer fell behind: drop what waits for it and end with `close` (at its next read). */
  private endLagging(): void {
    if (this.ending) return;
    this.ending = 'lagging';
    this.queue.clear();
    this.options.hub.noteLagging();
  }

  shutdown(): void {
    this.ending ??= 'shutdown';
    this.wake?.();
  }

  /**
   * Events already waiting, without waiting for more (at most `max`): a consumer that reads several
   * at once (one write for many frames) asks for them after `next()` gave it one. (Once the stream
   * keeps step with the hub, `next()` itself gives runs of up to `runMax`.)
   */
  takeQueued(max: number): StreamMessage[] {
    const messages: StreamMessage[] = [];
    // During a replay: the rest of the read being sent.
    while (messages.length < max && !this.live && !this.ending) {
      const item = this.nextReplayed();
      if (!item) break;
      if (item.message) messages.push(item.message);
    }
    while (messages.length < max && this.live && !this.ending) {
      if (this.options.clock.now() >= this.deadline) break;
      const message = this.takeLive();
      if (!message) break;
      messages.push(message);
    }
    return messages;
  }

  /** The next queued live event to send (dropping those the cursor already passed), if any. */
  private takeLive(): Extract<StreamMessage, { kind: 'event' }> | undefined {
    for (;;) {
      const entry = this.queue.shift();
      if (!entry) return undefined;
      if (covers(this.cursor, entry.range, entry.lsn)) continue;
      let shared = false;
      if (this.aligned && coversCursor(entry.cursor, this.cursor)) {
        this.cursor = entry.cursor;
        shared = true;
      } else {
        this.cursor = advance(this.cursor, entry.range, entry.lsn, entry.item.body.committedAt);
      }
      this.atHub = shared;
      return {
        kind: 'event',
        entry,
        cursor: shared ? this.sharedText(entry) : this.format(this.cursor),
        shared,
      };
    }
  }

  /** Up to `max` queued live events as one message; only while the cursor is the hub's own (`atHub`). */
  private takeRun(max: number): Extract<StreamMessage, { kind: 'events' }> | undefined {
    const entries = this.queue.take(max);
    const last = entries[entries.length - 1];
    if (!last) return undefined;
    this.cursor = last.cursor;
    return { kind: 'events', entries, cursor: this.sharedText(last), idOf: this.idOf };
  }

  private format(cursor: EventCursor): string {
    return this.options.log.formatCursor(cursor);
  }

  private readonly idOf = (entry: LogEntry): string => this.sharedText(entry);

  private sharedText(entry: LogEntry): string {
    let text = sharedCursorTexts.get(entry);
    if (text === undefined) {
      text = this.format(entry.cursor);
      sharedCursorTexts.set(entry, text);
    }
    return text;
  }

  private async *run(): AsyncGenerator<StreamMessage> {
    try {
      if (this.resetFrom !== undefined)
        yield { kind: 'reset', reason: 'cursor-expired', after: this.resetFrom };
      yield { kind: 'ready', cursor: this.format(this.cursor), resumed: this.resumed };
      yield* this.replay();
      // Every queued event is after `target`, which the cursor covers: a live event's own cursor
      // then names only events this stream has seen, and can stand for the stream's.
      this.aligned = coversCursor(this.cursor, this.target);
      this.live = true;
      for (;;) {
        if (this.ending) break;
        const runMax = this.options.runMax ?? 1;
        const message = this.atHub && runMax > 1 ? this.takeRun(runMax) : this.takeLive();
        if (message) {
          yield message;
          if (this.options.clock.now() >= this.deadline) this.ending ??= 'max-duration';
          continue;
        }
        const now = this.options.clock.now();
        if (now >= this.deadline) {
          this.ending ??= 'max-duration';
          continue;
        }
        const woke = await this.waitForDelivery(
          Math.min(this.options.limits.heartbeatMs, this.deadline - now),
        );
        if (!woke && !this.ending && this.options.clock.now() < this.deadline) yield { kind: 'heartbeat' };
      }
      if (this.ending !== 'cancelled') {
        yield { kind: 'close', reason: this.ending, cursor: this.format(this.cursor) };
      }
    } finally {
      this.finish();
    }
  }

  /** The events between the client's cursor and the hub's position, read at the consumer's pace. */
  private async *replay(): AsyncGenerator<StreamMessage> {
    for (let round = 1; ; round++) {
      while (!coversCursor(this.cursor, this.target) && !this.ending) {
        // Recent events come from the hub's memory (shared by every resuming stream, frames encoded
        // once); older ones from the log.
        const read =
          this.options.hub.recentAfter(this.cursor, REPLAY_BATCH) ??
          (await this.options.log.read(this.cursor, REPLAY_BATCH));
        this.replayed = this.replayItems(read.entries);
        this.replayedHead = 0;
        // One at a time here; a consumer that writes several frames at once takes the rest of the
        // batch with takeQueued. The cursor moves as each is handed out, so a close frame names
        // exactly what was sent.
        for (let item = this.nextReplayed(); item; item = this.nextReplayed()) {
          if (item.message) yield item.message;
          if (this.ending) return;
        }
        this.replayed = [];
        this.replayedHead = 0;
        this.cursor = read.next;
        if (read.caughtUp) break;
      }
      if (!this.overflowed || this.ending) return;
      if (round >= MAX_CATCH_UP_ROUNDS) {
        this.endLagging();
        return;
      }
      // The live queue overflowed while replaying: drop it and replay on to the hub's position now.
      this.overflowed = false;
      this.queue.clear();
      this.target = this.options.hub.currentPosition ?? this.target;
    }
  }

  /** Hands out the next item of the replay read being sent, moving the stream's cursor over it. */
  private nextReplayed(): ReplayItem | undefined {
    const item = this.replayed[this.replayedHead];
    if (!item) return undefined;
    this.replayedHead += 1;
    this.cursor = item.cursor;
    return item;
  }

  /** Each entry of a replay read with the stream's cursor after it and its frame (if it passes the filter). */
  private replayItems(entries: readonly LogEntry[]): ReplayItem[] {
    let cursor = this.cursor;
    return entries.map((entry) => {
      // A log read's cursors start from this stream's; the hub's are the tail's and stand for this
      // stream's only when they cover it (as for live events).
      const shared = coversCursor(entry.cursor, cursor);
      cursor = shared ? entry.cursor : advance(cursor, entry.range, entry.lsn, entry.item.body.committedAt);
      if (!matchesFilter(entry.event, this.options.filter)) return { cursor };
      const text = shared ? this.sharedText(entry) : this.format(cursor);
      return { cursor, message: { kind: 'event', entry, cursor: text, shared } };
    });
  }

  /** Resolves true on a delivery (or an ending), false after `ms` without one. */
  private waitForDelivery(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(true);
      };
    });
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.clear();
    this.registration?.unsubscribe();
    this.options.hub.release();
  }
}
