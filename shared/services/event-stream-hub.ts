import { advance, covers, coversCursor, type EventCursor } from '../domain/event-cursor';
import type { EventLog, LogEntry, LogRead } from './event-log';
import { Fifo } from './fifo';

/** One open stream as the hub sees it. */
export interface HubSubscriber {
  /** Whether the subscriber wants this event (its filter). */
  accepts(entry: LogEntry): boolean;
  /** Subscribers with the same key accept the same events: the hub filters each read once per key. */
  readonly filterKey: string | undefined;
  /**
   * The committed events it accepts after its registration position, once each, in log order
   * (synchronous; never an empty run). The array may be shared with other subscribers: read only.
   */
  deliver(entries: readonly LogEntry[]): void;
  /** The hub is shutting down: end the stream now. */
  shutdown(): void;
  /** Live events waiting for this stream's consumer (for the metrics). */
  readonly queuedEvents: number;
}

/** What GET /api/metrics reports about this instance's event streams. */
export interface StreamStats {
  open: number;
  max: number;
  /** Live events waiting for slow consumers, over every stream (each bounded by BRIDGE_STREAM_MAX_LAG_EVENTS). */
  queuedEvents: number;
  /** Streams closed because their consumer fell behind, since start. */
  closedLagging: number;
}

export interface EventStreamHubOptions {
  log: EventLog;
  /** How often the shared tail looks for commits this instance was not told about (other instances). */
  pollMs: number;
  /** Streams one instance serves at once (BRIDGE_STREAM_MAX_CONNECTIONS). */
  maxStreams: number;
  /** How long the tail keeps running with no stream, so reconnecting clients find it warm. */
  idleMs?: number;
  /**
   * The newest events the tail read, kept so that a stream resuming from a recent cursor replays
   * from memory instead of each reading (and parsing) the log itself (BRIDGE_STREAM_REPLAY_EVENTS).
   */
  recentEvents?: number;
  warn?: (message: string) => void;
}

export interface HubRegistration {
  /** The hub's position when the subscriber was added: it gets every event after it. */
  position: EventCursor;
  unsubscribe(): void;
}

const READ_BATCH = 500;
const MAX_BACKOFF_MS = 5_000;

/**
 * One shared tail of the event log per instance, feeding every open stream: never a store query
 * loop per connection. It reads the log after its position whenever this instance commits (the
 * composition root's commit notification calls `notifyCommitted`) and every `pollMs` for commits
 * made elsewhere (other instances, other processes on the same store), and hands each event to
 * every subscriber in log order. It runs only while streams are open (and `idleMs` after).
 */
export class EventStreamHub {
  private readonly subscribers = new Set<HubSubscriber>();
  private position: EventCursor | undefined;
  private starting: Promise<EventCursor> | undefined;
  private running = false;
  private dirty = false;
  private wake: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private admitted = 0;
  private lagging = 0;
  private closed = false;
  private failures = 0;
  /** Bumped by every start, so a tail left over from before a stop never runs beside a new one. */
  private generation = 0;
  private loopDone: Promise<void> = Promise.resolve();
  /** The newest entries the tail delivered, in log order, and the position right before the first. */
  private readonly recent = new Fifo<LogEntry>();
  private recentFrom: EventCursor | undefined;

  constructor(private readonly options: EventStreamHubOptions) {}

  /** Streams open (or opening) on this instance. */
  get openStreams(): number {
    return this.admitted;
  }

  /** Where the tail stands now (undefined while stopped): every later event is still to be delivered. */
  get currentPosition(): EventCursor | undefined {
    return this.position;
  }

  /**
   * The entries after `cursor` from the tail's memory of recent events (at most `limit`), or
   * undefined when `cursor` is older than that memory (the caller reads the log). Every event after
   * the memory's start that the tail has read is in it, in log order, so none is skipped; `caughtUp`
   * says the answer reached the tail's position (later events reach the stream live).
   */
  recentAfter(
    cursor: EventCursor,
    limit: number,
  ): Pick<LogRead, 'entries' | 'next' | 'caughtUp'> | undefined {
    if (!this.running || !this.recentFrom || !coversCursor(cursor, this.recentFrom)) return undefined;
    const entries: LogEntry[] = [];
    let next = cursor;
    let i = 0;
    for (; i < this.recent.length && entries.length < limit; i++) {
      const entry = this.recent.at(i) as LogEntry;
      if (covers(next, entry.range, entry.lsn)) continue;
      next = coversCursor(entry.cursor, next)
        ? entry.cursor
        : advance(next, entry.range, entry.lsn, entry.item.body.committedAt);
      entries.push(entry);
    }
    return { entries, next, caughtUp: i >= this.recent.length };
  }

  get maxStreams(): number {
    return this.options.maxStreams;
  }

  stats(): StreamStats {
    let queuedEvents = 0;
    for (const subscriber of this.subscribers) queuedEvents += subscriber.queuedEvents;
    return { open: this.admitted, max: this.options.maxStreams, queuedEvents, closedLagging: this.lagging };
  }

  /** A stream was closed because its consumer fell behind. */
  noteLagging(): void {
    this.lagging += 1;
  }

  /** Reserves a stream slot; false at the instance's limit (the caller answers 503). */
  tryAdmit(): boolean {
    if (this.closed || this.admitted >= this.options.maxStreams) return false;
    this.admitted += 1;
    return true;
  }

  release(): void {
    this.admitted = Math.max(0, this.admitted - 1);
  }

  /**
   * Adds a subscriber once the tail is live; resolves with the position from which it receives
   * every event. Events committed after that position reach it; older ones are the caller's to replay.
   */
  async subscribe(subscriber: HubSubscriber): Promise<HubRegistration> {
    if (this.closed) throw new Error('the event stream hub is closed');
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.running) {
      this.starting ??= this.options.log.head().finally(() => (this.starting = undefined));
      const head = await this.starting;
      if (this.closed) throw new Error('the event stream hub is closed');
      if (!this.running) {
        this.position = head;
        this.recent.clear();
        this.recentFrom = head;
        this.running = true;
        this.loopDone = this.loop(++this.generation);
      }
    }
    this.subscribers.add(subscriber);
    return {
      position: this.position as EventCursor,
      unsubscribe: () => {
        if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0 || !this.running) return;
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => {
          if (this.subscribers.size === 0) this.stop();
        }, this.options.idleMs ?? 30_000);
        this.idleTimer.unref();
      },
    };
  }

  /** This instance committed events: read the log now instead of at the next poll. */
  notifyCommitted(): void {
    if (!this.running) return;
    this.dirty = true;
    this.wake?.();
  }

  /** Ends every stream (each gets its closing frame) and stops the tail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) subscriber.shutdown();
    this.subscribers.clear();
    this.stop();
    await this.loopDone;
  }

  private stop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.running = false;
    this.position = undefined;
    this.recent.clear();
    this.recentFrom = undefined;
    this.wake?.();
  }

  private async loop(generation: number): Promise<void> {
    while (this.running && generation === this.generation) {
      this.dirty = false;
      let caughtUp = true;
      try {
        const from = this.position as EventCursor;
        const read = await this.options.log.read(from, READ_BATCH);
        // Stopped (and maybe restarted from a new head) while reading: this read is stale.
        if (!this.running || generation !== this.generation) return;
        for (const entry of read.entries) this.remember(entry);
        if (read.entries.length > 0) this.fanOut(read.entries);
        this.position = read.next;
        caughtUp = read.caughtUp;
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        this.options.warn?.(`event stream tail: read failed (${this.failures}), retrying: ${String(error)}`);
        await this.sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.failures, 6)));
        continue;
      }
      if (!caughtUp || this.dirty) continue;
      await this.sleep(this.options.pollMs);
    }
  }

  /** Hands a read to every subscriber: filtered once per filter key, so 100 alike streams cost one pass. */
  private fanOut(entries: readonly LogEntry[]): void {
    const byKey = new Map<string, readonly LogEntry[]>();
    for (const subscriber of this.subscribers) {
      const key = subscriber.filterKey;
      let run = key === undefined ? undefined : byKey.get(key);
      if (!run) {
        run = entries.filter((entry) => subscriber.accepts(entry));
        if (key !== undefined) byKey.set(key, run);
      }
      if (run.length > 0) subscriber.deliver(run);
    }
  }

  private remember(entry: LogEntry): void {
    const keep = this.options.recentEvents ?? 0;
    if (keep === 0) {
      this.recentFrom = entry.cursor;
      return;
    }
    this.recent.push(entry);
    if (this.recent.length > keep) {
      // The memory now starts after the oldest entry: a cursor before it reads the log.
      this.recentFrom = (this.recent.shift() as LogEntry).cursor;
    }
  }

  /** Waits `ms`, or less when a commit notification (or stop) arrives. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }
}
