/**
 * The event stream's session and shared tail over real services: on the embedded store (one
 * range, sequence cursors) and on a partitioned store with independent LSNs per range.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../shared/config';
import { createServices, type Services } from '../../../shared/container';
import { coversCursor } from '../../../shared/domain/event-cursor';
import type { DocumentStore } from '../../../shared/ports/document-store';
import { SqliteDocumentStore } from '../../../shared/adapters/embedded/sqlite-document-store';
import {
  EventStreamSession,
  type StreamFilter,
  type StreamLimits,
  type StreamMessage,
} from '../../../shared/services/event-stream-session';
import { keyPrincipal } from '../../../shared/services/principal';
import { AcceptingSender } from '../../contract/event-log.contract';
import { RangedMemoryStore } from '../../helpers/ranged-store';
import { ManualClock, TEST_ADMIN_KEY } from '../../helpers/test-services';

const PUBLISHER = keyPrincipal('k1', 'service', 'tests');
const LIMITS: StreamLimits = { heartbeatMs: 60_000, maxDurationMs: 3_600_000, maxLagEvents: 1000 };

const stores: [string, (clock: ManualClock) => DocumentStore][] = [
  ['embedded store', (clock) => new SqliteDocumentStore({ path: ':memory:', clock, purgeIntervalMs: 0 })],
  ['partitioned store (4 ranges)', (clock) => new RangedMemoryStore(4, clock)],
];

describe.each(stores)('event stream over the %s', (_name, makeStore) => {
  let services: Services;
  let store: DocumentStore;
  let clock: ManualClock;
  let dataDir: string;
  const sessions: EventStreamSession[] = [];

  beforeEach(() => {
    clock = new ManualClock();
    store = makeStore(clock);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-stream-'));
    const config = loadConfig({
      BRIDGE_ADMIN_KEY: TEST_ADMIN_KEY,
      BRIDGE_DATA_DIR: dataDir,
      BRIDGE_EVENTS_FAST_PATH: 'false',
      BRIDGE_STREAM_MAX_CONNECTIONS: '5',
      BRIDGE_STREAM_POLL_MS: '5000',
    });
    services = createServices(config, { store, clock, bus: new AcceptingSender() });
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.cancel();
    await services.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let n = 0;
  const publish = (subject = `s${n % 5}`, type = 'note') =>
    services.publisher.publish({ type, data: { n: n++ }, subject, id: `e${n}` }, PUBLISHER);

  async function open(
    options: { after?: string; filter?: StreamFilter; limits?: Partial<StreamLimits>; runMax?: number } = {},
  ) {
    expect(services.streams.tryAdmit()).toBe(true);
    const session = await EventStreamSession.open({
      hub: services.streams,
      log: services.events,
      clock,
      filter: options.filter ?? {},
      ...(options.after !== undefined ? { after: services.events.parseCursor(options.after) } : {}),
      limits: { ...LIMITS, ...options.limits },
      ...(options.runMax !== undefined ? { runMax: options.runMax } : {}),
    });
    sessions.push(session);
    return session;
  }

  /** The next message, failing after a while instead of hanging the test. */
  async function next(session: EventStreamSession, ms = 10_000): Promise<StreamMessage> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      session.next(),
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error('no message in time')), ms)),
      ),
    ]).finally(() => clearTimeout(timer));
    if (result.done) throw new Error('the stream ended');
    return result.value;
  }

  /** Waits until the shared tail has handed over everything committed so far. */
  async function tailSettled(): Promise<void> {
    const head = await services.events.head();
    for (let i = 0; i < 2000; i++) {
      const position = services.streams.currentPosition;
      if (position && coversCursor(position, head)) return;
      await tick();
    }
    throw new Error('the tail did not catch up');
  }

  async function events(
    session: EventStreamSession,
    count: number,
  ): Promise<Extract<StreamMessage, { kind: 'event' }>[]> {
    const out: Extract<StreamMessage, { kind: 'event' }>[] = [];
    while (out.length < count) {
      const message = await next(session);
      if (message.kind === 'event') out.push(message);
      else if (message.kind === 'events') out.push(...flatten(message));
      else if (message.kind !== 'heartbeat') throw new Error(`unexpected ${message.kind}`);
    }
    return out;
  }

  /** A run as the one-by-one messages it stands for (each frame's id is the entry's own cursor). */
  function flatten(
    run: Extract<StreamMessage, { kind: 'events' }>,
  ): Extract<StreamMessage, { kind: 'event' }>[] {
    return run.entries.map((entry) => ({ kind: 'event', entry, cursor: run.idOf(entry), shared: true }));
  }

  it('ready first; every event committed after it arrives, once, each with the cursor after it', async () => {
    await publish();
    const session = await open();
    const ready = await next(session);
    expect(ready).toEqual(expect.objectContaining({ kind: 'ready', resumed: false }));
    const written = await Promise.all(Array.from({ length: 30 }, () => publish()));
    const got = await events(session, 30);
    expect(got.map((m) => m.entry.event.id).sort()).toEqual(written.map((w) => w.id).sort());
    // The last cursor resumes with nothing more; an earlier one replays exactly what follows it.
    const last = got[got.length - 1]!.cursor;
    expect((await services.events.replay({ after: last, limit: 100 })).events).toEqual([]);
    const tenth = got[9]!.cursor;
    const rest = await services.events.replay({ after: tenth, limit: 100 });
    expect(rest.events.map((e) => e.id).sort()).toEqual(
      got
        .slice(10)
        .map((m) => m.entry.event.id)
        .sort(),
    );
  });

  it('resuming from a cursor replays what was missed, then goes live, with no gap and no repeat', async () => {
    const first = await open();
    expect((await next(first)).kind).toBe('ready');
    for (let i = 0; i < 5; i++) await publish();
    const seen = await events(first, 5);
    const cursor = seen[1]!.cursor;
    first.cancel();
    const missed = [];
    for (let i = 0; i < 4; i++) missed.push((await publish()).id);
    const second = await open({ after: cursor });
    expect(await next(second)).toEqual(expect.objectContaining({ kind: 'ready', cursor, resumed: true }));
    const live = [await publish(), await publish()].map((w) => w.id);
    const got = (await events(second, 3 + 4 + 2)).map((m) => m.entry.event.id);
    // Across feed ranges the order is by commit time (equal here), so compare as sets.
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual([...seen.slice(2).map((m) => m.entry.event.id), ...missed, ...live].sort());
  });

  it.each([1, 64])(
    'replay and live overlap while writers keep writing: every event once (runs of %i)',
    async (runMax) => {
      for (let i = 0; i < 50; i++) await publish();
      const writing = (async () => {
        const ids = [];
        for (let i = 0; i < 60; i++) ids.push((await publish()).id);
        return ids;
      })();
      const session = await open({ after: '0', runMax });
      expect((await next(session)).kind).toBe('ready');
      const got = await events(session, 110);
      const ids = got.map((m) => m.entry.event.id);
      expect(new Set(ids).size).toBe(110);
      expect(ids).toEqual(expect.arrayContaining(await writing));
    },
  );

  it('filters: types, subject and what the caller may see', async () => {
    const session = await open({
      filter: { types: ['b'], subject: 'ann', visible: (e) => e.id !== 'hidden' },
    });
    expect((await next(session)).kind).toBe('ready');
    await publish('ann', 'a');
    await publish('bob', 'b');
    const wanted = await publish('ann', 'b');
    const got = await events(session, 1);
    expect(got[0]!.entry.event.id).toBe(wanted.id);
  });

  it('runs: a stream in step with the tail gets the same events and cursors as one by one, in fewer messages', async () => {
    const single = await open();
    const runs = await open({ runMax: 8 });
    expect((await next(single)).kind).toBe('ready');
    expect((await next(runs)).kind).toBe('ready');
    await publish();
    await events(single, 1);
    await events(runs, 1);
    const written = await Promise.all(Array.from({ length: 40 }, () => publish()));
    await tailSettled();
    const one = await events(single, 40);
    const messages: StreamMessage[] = [];
    const many: Extract<StreamMessage, { kind: 'event' }>[] = [];
    while (many.length < 40) {
      const message = await next(runs);
      messages.push(message);
      if (message.kind === 'events') {
        expect(message.entries.length).toBeLessThanOrEqual(8);
        expect(message.cursor).toBe(message.idOf(message.entries[message.entries.length - 1]!));
        many.push(...flatten(message));
      } else if (message.kind === 'event') many.push(message);
    }
    const pairs = (list: typeof one) => list.map((m) => [m.entry.event.id, m.cursor]);
    expect(pairs(many)).toEqual(pairs(one));
    expect(many.map((m) => m.entry.event.id).sort()).toEqual(written.map((w) => w.id).sort());
    // Forty events in runs of at most eight: at least five messages, far fewer than forty.
    expect(messages.length).toBeLessThan(40);
    expect(messages.some((m) => m.kind === 'events' && m.entries.length > 1)).toBe(true);
  });

  it('streams with the same filter key share one filtering of each read; other keys filter apart', async () => {
    const ann1 = await open({ filter: { subject: 'ann', key: 'ann' }, runMax: 64 });
    const ann2 = await open({ filter: { subject: 'ann', key: 'ann' }, runMax: 64 });
    const bob = await open({ filter: { subject: 'bob', key: 'bob' }, runMax: 64 });
    for (const s of [ann1, ann2, bob]) expect((await next(s)).kind).toBe('ready');
    const checks = [jest.spyOn(ann1, 'accepts'), jest.spyOn(ann2, 'accepts'), jest.spyOn(bob, 'accepts')];
    const forAnn = [];
    const forBob = [];
    for (let i = 0; i < 6; i++) {
      forAnn.push((await publish('ann')).id);
      forBob.push((await publish('bob')).id);
      await publish('cat');
    }
    await tailSettled();
    const ids = async (s: EventStreamSession, count: number) =>
      (await events(s, count)).map((m) => m.entry.event.id).sort();
    expect(await ids(ann1, 6)).toEqual(forAnn.sort());
    expect(await ids(ann2, 6)).toEqual(forAnn.sort());
    expect(await ids(bob, 6)).toEqual(forBob.sort());
    // 18 events: once for the key 'ann' (whichever stream the tail asked) and once for 'bob'.
    const [a1, a2, b] = checks.map((spy) => spy.mock.calls.length);
    expect(a1! + a2!).toBe(18);
    expect(b).toBe(18);
  });

  it('a consumer that falls behind is closed with its cursor, and resumes from it without loss', async () => {
    const session = await open({ limits: { maxLagEvents: 10 } });
    expect((await next(session)).kind).toBe('ready');
    await publish();
    const delivered = await events(session, 1);
    const written = [];
    for (let i = 0; i < 30; i++) written.push((await publish()).id);
    await tailSettled();
    const rest: string[] = [];
    let close: StreamMessage | undefined;
    for (;;) {
      const message = await next(session);
      if (message.kind === 'event') rest.push(message.entry.event.id);
      if (message.kind === 'close') {
        close = message;
        break;
      }
    }
    expect(close).toEqual(expect.objectContaining({ kind: 'close', reason: 'lagging' }));
    expect(rest.length).toBeLessThan(30);
    expect((await session.next()).done).toBe(true);
    const resumed = await services.events.replay({ after: (close as { cursor: string }).cursor, limit: 100 });
    expect([...rest, ...resumed.events.map((e) => e.id)].sort()).toEqual(written.sort());
    expect(delivered).toHaveLength(1);
  });

  it('heartbeats when idle; closes at the maximum duration with its cursor', async () => {
    const session = await open({ limits: { heartbeatMs: 20, maxDurationMs: 60_000 } });
    expect((await next(session)).kind).toBe('ready');
    expect((await next(session)).kind).toBe('heartbeat');
    clock.advance(61_000);
    const close = await next(session);
    expect(close).toEqual(expect.objectContaining({ kind: 'close', reason: 'max-duration' }));
    expect((await session.next()).done).toBe(true);
  });

  it('shutdown closes every stream with a closing frame', async () => {
    const session = await open();
    expect((await next(session)).kind).toBe('ready');
    const closing = next(session);
    await services.streams.close();
    expect(await closing).toEqual(expect.objectContaining({ kind: 'close', reason: 'shutdown' }));
  });

  it('a cursor older than the retention gets reset, then ready at the live position', async () => {
    await publish();
    const cursor = (await services.events.replay({ limit: 1 })).next;
    clock.advance(8 * 86_400_000);
    await publish();
    const session = await open({ after: cursor });
    expect(await next(session)).toEqual({ kind: 'reset', reason: 'cursor-expired', after: cursor });
    expect(await next(session)).toEqual(expect.objectContaining({ kind: 'ready', resumed: false }));
  });

  it('admission stops at the instance limit and frees slots as streams end', async () => {
    const open5 = [];
    for (let i = 0; i < 5; i++) open5.push(await open());
    expect(services.streams.tryAdmit()).toBe(false);
    open5[0]!.cancel();
    expect(services.streams.openStreams).toBe(4);
    expect(services.streams.tryAdmit()).toBe(true);
    services.streams.release();
  });

  it('one shared tail: reads do not grow with the number of streams', async () => {
    const reads = countReads(store);
    const many = [];
    for (let i = 0; i < 5; i++) {
      const s = await open();
      expect((await next(s)).kind).toBe('ready');
      many.push(s);
    }
    const before = reads.count;
    for (let i = 0; i < 10; i++) await publish();
    for (const s of many) await events(s, 10);
    // Ten commits: at most a couple of tail reads each (and polls), never one per stream.
    expect(reads.count - before).toBeLessThanOrEqual(10 * 3 * rangesOf(store));
  });

  it("resuming streams replay recent events from the tail's memory; older cursors read the log", async () => {
    for (let i = 0; i < 5; i++) await publish(); // before any stream: not in the tail's memory
    const early = (await services.events.replay({ limit: 2 })).next;
    const keeper = await open();
    expect((await next(keeper)).kind).toBe('ready');
    const later = [];
    for (let i = 0; i < 6; i++) later.push((await publish()).id);
    const seen = await events(keeper, 6);
    await tailSettled();
    const reads = countReads(store);

    // From a cursor the tail has passed since it started: no log read, exactly what follows it.
    const recent = await open({ after: seen[1]!.cursor });
    expect((await next(recent)).kind).toBe('ready');
    const fromMemory = (await events(recent, 4)).map((m) => m.entry.event.id);
    expect(fromMemory.sort()).toEqual(later.slice(2).sort());
    // At most the one-item look that checks the cursor against the retention (sequence cursors).
    expect(reads.count).toBeLessThanOrEqual(1);
    const readsBefore = reads.count;

    // From before the tail started: the log, then the same memory; every event once.
    const old = await open({ after: early });
    expect((await next(old)).kind).toBe('ready');
    const fromLog = (await events(old, 3 + 6)).map((m) => m.entry.event.id);
    expect(new Set(fromLog).size).toBe(fromLog.length);
    expect(fromLog).toEqual(expect.arrayContaining(later));
    expect(reads.count - readsBefore).toBeGreaterThan(1);
  });

  function rangesOf(s: DocumentStore): number {
    return s instanceof RangedMemoryStore ? 4 : 1;
  }
});

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

/** Counts change-feed reads of a store (either kind). */
function countReads(store: DocumentStore): { count: number } {
  const counter = { count: 0 };
  const target = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ['changeFeed', 'readFeedRange']) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    target[method] = function (this: unknown, ...args: unknown[]) {
      counter.count += 1;
      return original.apply(this, args);
    };
  }
  return counter;
}
