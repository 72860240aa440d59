/**
 * The SSE subscribers of the event-stream scenarios (lib/sse.ts), on a worker thread of their own:
 * the bench's writers (and their acknowledgements) run on the main thread, so neither side's work
 * delays when the other reads its sockets. Both sides time with `epochNow()` (performance.timeOrigin
 * + performance.now(): the same clock in every thread of the process, to well under a millisecond).
 *
 * Messages, main → worker (each answered once, with the same `id`):
 *   connect {url, key, count}        every subscriber connected and past `ready`
 *   storm {startedAt, runMs, drops}  each subscriber drops and resumes `drops` times → {resumeMs, reconnects}
 *   missing {ids}                    (event, subscriber) pairs not received yet → {missing}
 *   measure {acks}                   latencies and counts over the measured acknowledgements
 *   close                            every connection closed
 */
import * as http from 'node:http';
import * as path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { serveRequests, WorkerClient } from './worker-rpc';

/** A histogram of microseconds, 1 µs to 600 s, 3 significant digits. */
export function latencyHistogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Milliseconds since the epoch, with performance.now()'s resolution; comparable across threads. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Event ids seen by any subscriber, each with a small number: a subscriber keeps its arrival times
 * in a Float64Array by that number (NaN: not arrived) instead of a Map of its own, so 100
 * subscribers × 10,000 events cost the bench process little memory and garbage collection.
 */
class EventNumbers {
  private readonly numbers = new Map<string, number>();

  numberOf(id: string): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.numbers.size;
      this.numbers.set(id, n);
    }
    return n;
  }

  find(id: string): number | undefined {
    return this.numbers.get(id);
  }
}

/** When one subscriber received each event (by its number), in epoch milliseconds (`epochNow`). */
class Arrivals {
  private times = new Float64Array(1024).fill(Number.NaN);

  constructor(private readonly numbers: EventNumbers) {}

  /** Records the first arrival; false if the event had already arrived (a duplicate). */
  add(id: string, at: number): boolean {
    const n = this.numbers.numberOf(id);
    if (n >= this.times.length) {
      const grown = new Float64Array(Math.max(n + 1, this.times.length * 2)).fill(Number.NaN);
      grown.set(this.times);
      this.times = grown;
    }
    if (!Number.isNaN(this.times[n] as number)) return false;
    this.times[n] = at;
    return true;
  }

  get(id: string): number | undefined {
    const n = this.numbers.find(id);
    const at = n === undefined ? Number.NaN : (this.times[n] ?? Number.NaN);
    return Number.isNaN(at) ? undefined : at;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }
}

const FRAME_END = Buffer.from('\n\n');
const ID_LINE = Buffer.from('id: ');
const EVENT_ID_KEY = Buffer.from('"id":"');
const READY = Buffer.from('event: ready');
const NEWLINE = 0x0a;
const QUOTE = 0x22;

/** The rest of the line from `from` (latin1: cursors are ASCII). */
function lineAt(buffer: Buffer, from: number): string {
  const end = buffer.indexOf(NEWLINE, from);
  return buffer.toString('latin1', from, end < 0 ? buffer.length : end);
}

/** One connection's parsing state: the bytes of an unfinished frame, and whether `ready` came. */
interface StreamState {
  pending: Buffer | undefined;
  ready: boolean;
  onReady: () => void;
}

/**
 * Subscribers with chunks to parse, parsed a little at a time (about 1 ms per event-loop turn) so
 * the sockets are read, and arrivals timed, between the slices instead of after all the parsing.
 */
const parsing = new (class {
  private readonly waiting = new Set<{ readInbox(): void }>();
  private scheduled = false;

  add(subscriber: { readInbox(): void }): void {
    this.waiting.add(subscriber);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.slice());
    }
  }

  private slice(): void {
    const until = performance.now() + 1;
    for (const subscriber of this.waiting) {
      this.waiting.delete(subscriber);
      subscriber.readInbox();
      if (performance.now() >= until) break;
    }
    this.scheduled = this.waiting.size > 0;
    if (this.scheduled) setImmediate(() => this.slice());
  }
})();

/** One subscriber's connection(s): the event ids it got (with arrival times) and its last cursor. */
class Subscriber {
  readonly arrivals: Arrivals;
  duplicates = 0;
  lastId: string | undefined;
  reconnects = 0;
  refused = 0;
  hostCloses = 0;
  private request: http.ClientRequest | undefined;
  private closedByUs = false;
  /** Chunks read and not parsed yet, with when they were read. */
  private inbox: { state: StreamState; chunk: Buffer; at: number }[] = [];
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly key: string,
    numbers: EventNumbers,
  ) {
    this.arrivals = new Arrivals(numbers);
  }

  /** Connects (with Last-Event-ID once it has one) and resolves at `ready`; one attempt at a time. */
  connect(): Promise<void> {
    this.connecting ??= this.connectUntilReady().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectUntilReady(): Promise<void> {
    for (;;) {
      const status = await this.open();
      if (status === 200) return;
      this.refused += 1;
      await sleep(200);
    }
  }

  private open(): Promise<number> {
    this.readInbox();
    return new Promise((resolve, reject) => {
      this.closedByUs = false;
      const headers: Record<string, string> = { 'x-api-key': this.key, accept: 'text/event-stream' };
      if (this.lastId) headers['last-event-id'] = this.lastId;
      const request = http.get(this.url, { headers, agent: false });
      this.request = request;
      request.once('error', (error) => (this.closedByUs ? resolve(0) : reject(error)));
      request.once('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
          return;
        }
        const state: StreamState = { pending: undefined, ready: false, onReady: () => resolve(200) };
        // The host ended the stream (after its `close` frame): resume from the last cursor at once.
        res.once('close', () => {
          if (!state.ready) return resolve(0); // ended before `ready`: tried again like a refusal
          if (this.closedByUs || this.request !== request) return;
          this.hostCloses += 1;
          void this.connect().catch(() => undefined);
        });
        res.on('data', (chunk: Buffer) => {
          // A frame's arrival is when its bytes were read; parsing waits until the reads of this
          // event-loop turn are done, so a frame read late in a busy turn is not timed late.
          const at = epochNow();
          if (!state.ready) return this.parse(state, chunk, at);
          this.inbox.push({ state, chunk, at });
          parsing.add(this);
        });
        res.once('error', () => undefined);
      });
    });
  }

  /** Parses the chunks read so far, in order (before reconnecting: `lastId` must be current). */
  readInbox(): void {
    const inbox = this.inbox;
    this.inbox = [];
    for (const { state, chunk, at } of inbox) this.parse(state, chunk, at);
  }

  /** Bytes, not strings: frames are ASCII up to the event's JSON; only the cursor and event id are taken. */
  private parse(state: StreamState, chunk: Buffer, at: number): void {
    const buffer = state.pending ? Buffer.concat([state.pending, chunk]) : chunk;
    let start = 0;
    let end: number;
    while ((end = buffer.indexOf(FRAME_END, start)) >= 0) {
      if (state.ready) {
        this.frame(buffer, start, end, at);
      } else {
        const frame = buffer.subarray(start, end);
        if (frame.includes(READY)) {
          state.ready = true;
          const idAt = frame.indexOf(ID_LINE);
          if (idAt >= 0) this.lastId = lineAt(frame, idAt + ID_LINE.length);
          state.onReady();
        }
      }
      start = end + FRAME_END.length;
    }
    state.pending = start < buffer.length ? buffer.subarray(start) : undefined;
  }

  /** One frame, buffer[start, end): an event frame is `id: <cursor>\ndata: {...,"id":"<event id>",...}`. */
  private frame(buffer: Buffer, start: number, end: number, at: number): void {
    if (buffer.compare(ID_LINE, 0, ID_LINE.length, start, start + ID_LINE.length) !== 0) return; // heartbeats, close
    const idEnd = buffer.indexOf(NEWLINE, start);
    this.lastId = buffer.toString('latin1', start + ID_LINE.length, idEnd);
    const key = buffer.indexOf(EVENT_ID_KEY, idEnd);
    if (key < 0 || key >= end) return;
    const idStart = key + EVENT_ID_KEY.length;
    const eventId = buffer.toString('utf8', idStart, buffer.indexOf(QUOTE, idStart));
    if (!this.arrivals.add(eventId, at)) this.duplicates += 1;
  }

  /** Drops the connection abruptly (a client going away). */
  drop(): void {
    this.closedByUs = true;
    this.request?.destroy();
  }

  close(): void {
    this.drop();
  }
}

/** An acknowledged sync: its event id, when the ack was read (epochNow) and whether it counts. */
export interface AckRecord {
  id: string;
  at: number;
  measured: boolean;
}

export interface SubscriberTotals {
  pairs: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  duplicated: number;
  refused: number;
  hostCloses: number;
  clientsWithGaps: number;
  clientsWithDuplicates: number;
}

type PoolRequest =
  | { kind: 'connect'; url: string; key: string; count: number }
  | { kind: 'storm'; startedAt: number; runMs: number; drops: number }
  | { kind: 'missing'; ids: string[] }
  | { kind: 'measure'; acks: AckRecord[] }
  | { kind: 'close' };

/** The worker's side: the subscribers themselves. */
class SubscriberPool {
  private readonly numbers = new EventNumbers();
  private subscribers: Subscriber[] = [];

  async handle(request: PoolRequest): Promise<unknown> {
    switch (request.kind) {
      case 'connect': {
        this.subscribers = Array.from(
          { length: request.count },
          () => new Subscriber(request.url, request.key, this.numbers),
        );
        // Every subscriber is live (has had `ready`) before the first write.
        for (let i = 0; i < this.subscribers.length; i += 20) {
          await Promise.all(this.subscribers.slice(i, i + 20).map((s) => s.connect()));
        }
        return {};
      }
      case 'storm':
        return this.storm(request.startedAt, request.runMs, request.drops);
      case 'missing':
        return { missing: this.missing(request.ids) };
      case 'measure':
        return this.measure(request.acks);
      case 'close':
        for (const s of this.subscribers) s.close();
        return {};
    }
  }

  /** Each subscriber drops and reconnects `drops` times at random moments of the run. */
  private async storm(startedAt: number, runMs: number, drops: number) {
    const resumeMs: number[] = [];
    await Promise.all(
      this.subscribers.map(async (s) => {
        const moments = Array.from({ length: drops }, () => Math.random() * runMs * 0.9).sort(
          (a, b) => a - b,
        );
        for (const moment of moments) {
          const wait = startedAt + moment - epochNow();
          if (wait > 0) await sleep(wait);
          s.drop();
          s.reconnects += 1;
          const dropped = epochNow();
          await s.connect();
          resumeMs.push(epochNow() - dropped);
        }
      }),
    );
    return { resumeMs, reconnects: this.subscribers.reduce((sum, s) => sum + s.reconnects, 0) };
  }

  private missing(ids: readonly string[]): number {
    let missing = 0;
    for (const s of this.subscribers) {
      s.readInbox();
      for (const id of ids) if (!s.arrivals.has(id)) missing += 1;
    }
    return missing;
  }

  private measure(acks: readonly AckRecord[]): SubscriberTotals {
    for (const s of this.subscribers) s.readInbox();
    const latency = latencyHistogram();
    let pairs = 0;
    for (const ack of acks) {
      if (!ack.measured) continue;
      for (const s of this.subscribers) {
        const at = s.arrivals.get(ack.id);
        if (at === undefined) continue;
        pairs += 1;
        // A frame that arrived before the acknowledgement counts as 0 ms.
        latency.recordValue(Math.max(1, Math.round((at - ack.at) * 1000)));
      }
    }
    return {
      pairs,
      p50: latency.getValueAtPercentile(50) / 1000,
      p95: latency.getValueAtPercentile(95) / 1000,
      p99: latency.getValueAtPercentile(99) / 1000,
      max: latency.maxValue / 1000,
      duplicated: this.subscribers.reduce((sum, s) => sum + s.duplicates, 0),
      refused: this.subscribers.reduce((sum, s) => sum + s.refused, 0),
      hostCloses: this.subscribers.reduce((sum, s) => sum + s.hostCloses, 0),
      clientsWithGaps: this.subscribers.filter((s) => acks.some((a) => !s.arrivals.has(a.id))).length,
      clientsWithDuplicates: this.subscribers.filter((s) => s.duplicates > 0).length,
    };
  }
}

const ROLE = 'sse-subscribers';

serveRequests<PoolRequest>(ROLE, () => {
  const pool = new SubscriberPool();
  return (request) => pool.handle(request);
});

/** The main thread's handle on the subscribers' worker. */
export class SubscriberThread {
  private readonly worker = new WorkerClient<PoolRequest>(path.join(__dirname, 'sse-subscribers.js'), ROLE);

  private ask<T>(request: PoolRequest): Promise<T> {
    return this.worker.ask<T>(request);
  }

  connect(url: string, key: string, count: number): Promise<unknown> {
    return this.ask({ kind: 'connect', url, key, count });
  }

  storm(
    startedAt: number,
    runMs: number,
    drops: number,
  ): Promise<{ resumeMs: number[]; reconnects: number }> {
    return this.ask({ kind: 'storm', startedAt, runMs, drops });
  }

  async missing(ids: string[]): Promise<number> {
    return (await this.ask<{ missing: number }>({ kind: 'missing', ids })).missing;
  }

  measure(acks: AckRecord[]): Promise<SubscriberTotals> {
    return this.ask({ kind: 'measure', acks });
  }

  close(): Promise<void> {
    return this.worker.close({ kind: 'close' });
  }
}
