import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import {
  EmbeddedBus,
  isEmbeddedBusError,
  openEmbeddedBus,
  subscriptionPath,
  type BusTopology,
  type EmbeddedBusErrorCode,
  type EmbeddedBusOptions,
  type LockedMessage,
} from '../../shared/adapters/embedded/embedded-bus';
import { BUS_TOPOLOGY, COMMANDS_QUEUE, EVENTS_TOPIC } from '../../shared/domain/bus-topology';
import type { OutgoingMessage } from '../../shared/ports/message-sender';

const REPO = resolve(__dirname, '..', '..');
const REGISTER_TS = join(REPO, 'tests', 'helpers', 'register-ts.js');

class ManualClock {
  constructor(private t = Date.UTC(2025, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A small topology of its own: one topic with a filtered subscription, two queues, a 1 s window. */
const TOPOLOGY: BusTopology = {
  topics: [
    {
      name: 'events',
      subscriptions: [
        { name: 'all', maxDeliveryCount: 3 },
        { name: 'orders', eventTypes: ['order_placed', 'order_paid'], maxDeliveryCount: 3 },
      ],
    },
  ],
  queues: [
    { name: 'work', maxDeliveryCount: 3 },
    { name: 'other', maxDeliveryCount: 10 },
  ],
  duplicateDetectionWindowMs: 1000,
};
const ALL = subscriptionPath('events', 'all');
const ORDERS = subscriptionPath('events', 'orders');
const ADMIN = subscriptionPath(EVENTS_TOPIC, 'admin-portal');
const USER = subscriptionPath(EVENTS_TOPIC, 'user-portal');
const WEBHOOKS = subscriptionPath(EVENTS_TOPIC, 'webhooks');

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-bus-'));
  tempDirs.push(dir);
  return dir;
}
const open: EmbeddedBus[] = [];
function newBus(options: Partial<EmbeddedBusOptions> = {}): EmbeddedBus {
  const bus = new EmbeddedBus({ path: ':memory:', topology: TOPOLOGY, ...options });
  open.push(bus);
  return bus;
}
afterEach(async () => {
  for (const bus of open.splice(0)) await bus.close();
});
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function msg(messageId: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return { messageId, body: { id: messageId }, ...extra };
}
function event(messageId: string, eventType: string): OutgoingMessage {
  return msg(messageId, { applicationProperties: { eventType } });
}
const ids = (locked: LockedMessage[]) => locked.map((m) => m.message.messageId);

async function expectBusError(promise: Promise<unknown>, code: EmbeddedBusErrorCode, text?: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isEmbeddedBusError(error, code)).toBe(true);
  if (text) expect((error as Error).message).toContain(text);
}

/** Receives and completes everything visible now; returns the messages in the order received. */
async function drain(bus: EmbeddedBus, path: string): Promise<LockedMessage[]> {
  const all: LockedMessage[] = [];
  for (;;) {
    const batch = await bus.receive(path, { maxMessages: 500 });
    if (batch.length === 0) return all;
    for (const m of batch) await bus.complete(m.lockToken);
    all.push(...batch);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('EmbeddedBus: opening', () => {
  it('opens <dataDir>/bus.db in WAL mode (creating the directory); messages and sequence numbers survive a reopen', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const bus = openEmbeddedBus(dir, TOPOLOGY);
    await bus.send('work', [msg('a'), msg('b')]);
    await bus.close();
    await bus.close();
    expect(existsSync(join(dir, 'bus.db'))).toBe(true);
    const raw = new Database(join(dir, 'bus.db'), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();

    const reopened = openEmbeddedBus(dir, TOPOLOGY, { durability: 'full' });
    open.push(reopened);
    const first = await reopened.receive('work', { maxMessages: 10 });
    expect(ids(first)).toEqual(['a', 'b']);
    expect(first.map((m) => m.sequenceNumber)).toEqual([1, 2]);
    await reopened.send('work', [msg('c')]);
    const [c] = await reopened.receive('work', { maxMessages: 10 });
    expect(c?.sequenceNumber).toBe(3);
    // Duplicate detection history is durable too.
    await reopened.send('work', [msg('a')]);
    expect(await reopened.countActive('work')).toBe(3);
  });

  it('rejects a malformed topology and calls after close', async () => {
    expect(() =>
      newBus({ topology: { ...TOPOLOGY, queues: [{ name: 'events', maxDeliveryCount: 1 }] } }),
    ).toThrow(/declared twice/);
    expect(() =>
      newBus({ topology: { ...TOPOLOGY, queues: [{ name: 'a/b', maxDeliveryCount: 1 }] } }),
    ).toThrow(/bad queue name/);
    expect(() => newBus({ topology: { ...TOPOLOGY, queues: [{ name: 'q', maxDeliveryCount: 0 }] } })).toThrow(
      /maxDeliveryCount/,
    );
    const bus = newBus();
    await bus.close();
    await expectBusError(bus.send('work', [msg('a')]), 'GeneralError', 'closed');
    await expectBusError(bus.receive('work', { maxMessages: 1 }), 'GeneralError', 'closed');
  });
});

describe('EmbeddedBus: sending', () => {
  it('fans a topic message out to every subscription whose filter accepts it (BUS_TOPOLOGY user-portal filter)', async () => {
    const bus = newBus({ topology: BUS_TOPOLOGY });
    await bus.send(EVENTS_TOPIC, [
      event('e1', 'user_update'),
      event('e2', 'admin_portal_custom'),
      msg('e3'), // no eventType: only the unfiltered subscriptions
      event('e4', 'state_change'),
    ]);
    const admin = await bus.receive(ADMIN, { maxMessages: 10 });
    const user = await bus.receive(USER, { maxMessages: 10 });
    const hooks = await bus.receive(WEBHOOKS, { maxMessages: 10 });
    expect(ids(admin)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(ids(hooks)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(ids(user)).toEqual(['e1', 'e4']);
    // A copy carries its topic's sequence number, so a subscription's numbers may have gaps.
    expect(admin.map((m) => m.sequenceNumber)).toEqual([1, 2, 3, 4]);
    expect(user.map((m) => m.sequenceNumber)).toEqual([1, 4]);
    expect(user.map((m) => m.entityPath)).toEqual([USER, USER]);
    // The queue is untouched and a topic is not receivable.
    expect(await bus.countActive(COMMANDS_QUEUE)).toBe(0);
    await expectBusError(
      bus.receive(EVENTS_TOPIC, { maxMessages: 1 }),
      'MessagingEntityNotFound',
      'is a topic',
    );
  });

  it('restores the body and metadata on receive', async () => {
    const clock = new ManualClock();
    const bus = newBus({ clock });
    const body = { text: 'héllo ✓', n: 1.5, nested: { list: [1, null, true] } };
    await bus.send('events', [
      {
        messageId: 'm1',
        body,
        subject: 'order_placed',
        contentType: 'application/cloudevents+json',
        correlationId: 'c-1',
        applicationProperties: { eventType: 'order_placed', attempt: 2, urgent: true },
      },
      { messageId: 'm2', body: 'just a string' },
    ]);
    const [first, second] = await bus.receive(ALL, { maxMessages: 5 });
    expect(first?.message).toEqual({
      messageId: 'm1',
      body,
      subject: 'order_placed',
      contentType: 'application/cloudevents+json',
      correlationId: 'c-1',
      applicationProperties: { eventType: 'order_placed', attempt: 2, urgent: true },
      deliveryCount: 1,
      enqueuedTimeUtc: new Date(clock.now()),
    });
    expect(second?.message).toEqual({
      messageId: 'm2',
      body: 'just a string',
      applicationProperties: {},
      deliveryCount: 1,
      enqueuedTimeUtc: new Date(clock.now()),
    });
    expect(first?.lockedUntil).toEqual(new Date(clock.now() + 30_000));
    expect(ids(await bus.receive(ORDERS, { maxMessages: 5 }))).toEqual(['m1']);
  });

  it('names an unknown entity; refuses to send to a subscription; accepts the subscriptions segment in any case', async () => {
    const bus = newBus();
    await expectBusError(bus.send('nope', [msg('a')]), 'MessagingEntityNotFound', '"nope"');
    await expectBusError(bus.send(ALL, [msg('a')]), 'MessagingEntityNotFound', 'send to its topic');
    await expectBusError(
      bus.receive('events/Subscriptions/nope', { maxMessages: 1 }),
      'MessagingEntityNotFound',
    );
    expect(() => bus.onAvailable('nope', () => undefined)).toThrow(/nope/);
    await bus.send('events', [msg('a')]);
    expect(ids(await bus.receive('events/subscriptions/all', { maxMessages: 1 }))).toEqual(['a']);
    await expect(bus.send('work', [])).resolves.toBeUndefined();
  });

  it('validates messages before storing anything', async () => {
    const bus = newBus();
    await expect(bus.send('work', [msg('')])).rejects.toThrow(/messages\[0\]\.messageId/);
    await expect(bus.send('work', [msg('x'.repeat(129))])).rejects.toThrow(/messageId/);
    await expect(bus.send('work', [msg('a', { body: undefined })])).rejects.toThrow(/body is not JSON/);
    await expect(bus.send('work', [msg('a', { applicationProperties: { n: Number.NaN } })])).rejects.toThrow(
      /applicationProperties\.n/,
    );
    await expect(bus.send('work', [msg('a', { scheduledEnqueueTimeUtc: new Date('nope') })])).rejects.toThrow(
      /scheduledEnqueueTimeUtc/,
    );
    await expectBusError(
      bus.send('work', [msg('big', { body: 'é'.repeat(200 * 1024) })]),
      'MessageSizeExceeded',
      'messages[0]',
    );
    await expect(bus.send('work', [msg('fits', { body: 'x'.repeat(200 * 1024) })])).resolves.toBeUndefined();
    expect(await bus.countActive('work')).toBe(1);
  });
});

describe('EmbeddedBus: atomic sends', () => {
  it('a send with an unserialisable body stores nothing and consumes no message id', async () => {
    const bus = newBus();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(bus.send('events', [msg('a'), msg('b', { body: circular }), msg('c')])).rejects.toThrow(
      /messages\[1\]\.body is not JSON-serialisable/,
    );
    await expect(bus.send('work', [msg('a'), msg('b', { body: { n: BigInt(1) } })])).rejects.toThrow(
      /messages\[1\]/,
    );
    expect(await bus.countActive(ALL)).toBe(0);
    expect(await bus.countActive('work')).toBe(0);
    await bus.send('events', [msg('a'), msg('b'), msg('c')]);
    const received = await bus.receive(ALL, { maxMessages: 10 });
    expect(ids(received)).toEqual(['a', 'b', 'c']);
    expect(received.map((m) => m.sequenceNumber)).toEqual([1, 2, 3]);
  });

  it('a failure half-way through the transaction rolls back every copy, sequence number and seen id', async () => {
    const dir = tempDir();
    const bus = openEmbeddedBus(dir, TOPOLOGY);
    open.push(bus);
    await bus.send('events', [msg('before')]);
    // Make the third copy's insert fail inside SQLite, after earlier rows were written.
    const raw = new Database(join(dir, 'bus.db'));
    const allId = raw.prepare('SELECT id FROM entities WHERE path = ?').pluck().get(ALL) as number;
    raw.exec(`CREATE TRIGGER poison BEFORE INSERT ON messages_${allId} WHEN NEW.message_id = 'poison'
      BEGIN SELECT RAISE(ABORT, 'poisoned'); END`);
    await expect(bus.send('events', [msg('x'), msg('y'), msg('poison'), msg('z')])).rejects.toThrow(
      /poisoned/,
    );
    expect(await bus.countActive(ALL)).toBe(1);
    // The bus commits its writes at the end of the event-loop turn (group commit); a second
    // connection in this process must let that turn end before it can take the write lock.
    await new Promise((resolve) => setImmediate(resolve));
    raw.exec('DROP TRIGGER poison');
    raw.close();
    await bus.send('events', [msg('x'), msg('y'), msg('z')]);
    const received = await bus.receive(ALL, { maxMessages: 10 });
    expect(ids(received)).toEqual(['before', 'x', 'y', 'z']);
    expect(received.map((m) => m.sequenceNumber)).toEqual([1, 2, 3, 4]);
  });

  it('another process holding the write lock past the busy timeout fails the send with ServiceBusy, storing nothing', async () => {
    const dir = tempDir();
    const bus = openEmbeddedBus(dir, TOPOLOGY, { busyTimeoutMs: 50 });
    open.push(bus);
    const raw = new Database(join(dir, 'bus.db'));
    raw.exec('BEGIN IMMEDIATE');
    const error = await bus.send('work', [msg('a'), msg('b')]).catch((e: unknown) => e);
    expect(isEmbeddedBusError(error, 'ServiceBusy')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    raw.exec('COMMIT');
    raw.close();
    expect(await bus.countActive('work')).toBe(0);
    await bus.send('work', [msg('a'), msg('b')]);
    expect(await bus.countActive('work')).toBe(2);
  });
});

describe('EmbeddedBus: peek-lock receiving', () => {
  it('delivers a queue in enqueue order, maxMessages at a time, hiding locked messages', async () => {
    const bus = newBus();
    await bus.send('work', [msg('1'), msg('2'), msg('3')]);
    await bus.send('work', [msg('4'), msg('5')]);
    await bus.send('other', [msg('x')]);
    const first = await bus.receive('work', { maxMessages: 2 });
    const second = await bus.receive('work', { maxMessages: 2 });
    const third = await bus.receive('work', { maxMessages: 2 });
    expect([ids(first), ids(second), ids(third)]).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect([...first, ...second, ...third].map((m) => m.sequenceNumber)).toEqual([1, 2, 3, 4, 5]);
    expect(await bus.receive('work', { maxMessages: 2 })).toEqual([]);
    expect(await bus.countActive('work')).toBe(5);
    for (const m of [...first, ...second, ...third]) await bus.complete(m.lockToken);
    expect(await bus.countActive('work')).toBe(0);
    expect(ids(await bus.receive('other', { maxMessages: 5 }))).toEqual(['x']);
    await expect(bus.receive('work', { maxMessages: 0 })).rejects.toThrow(RangeError);
  });

  it('completeAll settles many locks in one write and names the ones no longer held', async () => {
    const clock = new ManualClock();
    const bus = newBus({ clock, lockDurationMs: 1000 });
    await bus.send('work', [msg('1'), msg('2'), msg('3')]);
    const [first, second, third] = await bus.receive('work', { maxMessages: 3 });
    await bus.complete((second as LockedMessage).lockToken);
    expect(
      await bus.completeAll([
        (first as LockedMessage).lockToken,
        (second as LockedMessage).lockToken,
        'not-a-token',
      ]),
    ).toEqual(['not-a-token', (second as LockedMessage).lockToken]);
    clock.advance(1000); // the third lock expires
    expect(await bus.completeAll([(third as LockedMessage).lockToken])).toEqual([
      (third as LockedMessage).lockToken,
    ]);
    expect(ids(await bus.receive('work', { maxMessages: 5 }))).toEqual(['3']);
    expect(await bus.countActive('work')).toBe(1);
  });

  it('complete deletes; abandon makes it visible again (now or after retryAfterMs); deliveryCount grows', async () => {
    const clock = new ManualClock();
    const bus = newBus({ clock });
    await bus.send('other', [msg('a'), msg('b')]);
    const [a1, b1] = await bus.receive('other', { maxMessages: 2 });
    if (!a1 || !b1) throw new Error('expected two messages');
    await bus.complete(b1.lockToken);
    await expectBusError(bus.complete(b1.lockToken), 'MessageLockLost');
    await bus.abandon(a1.lockToken);
    await expectBusError(bus.complete(a1.lockToken), 'MessageLockLost');
    const [a2] = await bus.receive('other', { maxMessages: 2 });
    expect(a2?.message.deliveryCount).toBe(2);
    await bus.abandon(a2?.lockToken ?? '', { retryAfterMs: 5000 });
    expect(await bus.receive('other', { maxMessages: 2 })).toEqual([]);
    expect(await bus.nextVisibleAt('other')).toBe(clock.now() + 5000);
    clock.advance(4999);
    expect(await bus.receive('other', { maxMessages: 2 })).toEqual([]);
    clock.advance(1);
    const [a3] = await bus.receive('other', { maxMessages: 2 });
    expect(a3?.message).toMatchObject({ messageId: 'a', deliveryCount: 3 });
    await bus.complete(a3?.lockToken ?? '');
    expect(await bus.countActive('other')).toBe(0);
    expect(await bus.nextVisibleAt('other')).toBeUndefined();
  });

  it('an expired lock makes the message visible again and its old token stale; renewLock extends a held lock', async () => {
    const clock = new ManualClock();
    const bus = newBus({ clock, lockDurationMs: 1000 });
    await bus.send('other', [msg('a')]);
    const [first] = await bus.receive('other', { maxMessages: 1 });
    expect(first?.lockedUntil).toEqual(new Date(clock.now() + 1000));
    expect(await bus.nextVisibleAt('other')).toBe(clock.now() + 1000);
    clock.advance(999);
    expect(await bus.receive('other', { maxMessages: 1 })).toEqual([]);
    expect(await bus.renewLock(first?.lockToken ?? '')).toEqual(new Date(clock.now() + 1000));
    clock.advance(999);
    expect(await bus.receive('other', { maxMessages: 1 })).toEqual([]);
    clock.advance(1);
    // Expired but not yet taken by anyone: the lock is still lost.
    await expectBusError(bus.complete(first?.lockToken ?? ''), 'MessageLockLost');
    await expectBusError(bus.abandon(first?.lockToken ?? ''), 'MessageLockLost');
    await expectBusError(bus.renewLock(first?.lockToken ?? ''), 'MessageLockLost');
    const [second] = await bus.receive('other', { maxMessages: 1, lockDurationMs: 50 });
    expect(second?.message.deliveryCount).toBe(2);
    expect(second?.lockedUntil).toEqual(new Date(clock.now() + 50));
    await expectBusError(bus.complete(first?.lockToken ?? ''), 'MessageLockLost');
    await bus.complete(second?.lockToken ?? '');
    for (const bad of ['', 'garbage', '1.2', '999.1.x', '1.1.not-the-token']) {
      await expectBusError(bus.complete(bad), 'MessageLockLost');
    }
  });

  it('a message past maxDeliveryCount is dead-lettered instead of delivered; peek and resubmit', async () => {
    const clock = new ManualClock();
    const bus = newBus({ clock });
    await bus.send('work', [msg('poison'), msg('fine')]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [m] = await bus.receive('work', { maxMessages: 1 });
      expect(m?.message).toMatchObject({ messageId: 'poison', deliveryCount: attempt });
      await bus.abandon(m?.lockToken ?? '');
    }
    // The fourth delivery would exceed maxDeliveryCount 3: the receive skips it and takes the next.
    const next = await bus.receive('work', { maxMessages: 1 });
    expect(ids(next)).toEqual(['fine']);
    expect(await bus.countActive('work')).toBe(1);
    expect(await bus.countDeadLetters('work')).toBe(1);
    const [dead] = await bus.peekDeadLetters('work', { limit: 10 });
    expect(dead).toMatchObject({
      entityPath: 'work',
      sequenceNumber: 1,
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'Message could not be consumed after 3 delivery attempts.',
      deadLetteredAt: new Date(clock.now()),
      message: { messageId: 'poison', body: { id: 'poison' }, deliveryCount: 3 },
    });
    clock.advance(10);
    const newSeq = await bus.resubmitDeadLetter('work', 1);
    expect(newSeq).toBe(3);
    expect(await bus.countDeadLetters('work')).toBe(0);
    const [again] = await bus.receive('work', { maxMessages: 1 });
    expect(again).toMatchObject({
      sequenceNumber: 3,
      message: { messageId: 'poison', deliveryCount: 1, enqueuedTimeUtc: new Date(clock.now()) },
    });
    await expectBusError(bus.resubmitDeadLetter('work', 1), 'MessageNotFound');
  });

  it('dead-letters explicitly with a reason and description; the sub-queue pages by sequence number', async () => {
    const clock = new ManualClock();
    const bus = newBus({ clock, topology: BUS_TOPOLOGY });
    await bus.send(EVENTS_TOPIC, [event('e1', 'user_update'), event('e2', 'user_update'), event('e3', 'x')]);
    const received = await bus.receive(WEBHOOKS, { maxMessages: 10 });
    for (const m of received) {
      await bus.deadLetter(m.lockToken, {
        reason: 'WebhookFailed',
        description: `gave up on ${m.message.messageId}`,
      });
    }
    await expectBusError(
      bus.deadLetter(received[0]?.lockToken ?? '', { reason: 'again' }),
      'MessageLockLost',
    );
    expect(await bus.countActive(WEBHOOKS)).toBe(0);
    expect(await bus.countDeadLetters(WEBHOOKS)).toBe(3);
    expect(await bus.countDeadLetters(ADMIN)).toBe(0);
    const page1 = await bus.peekDeadLetters(WEBHOOKS, { limit: 2 });
    expect(page1.map((d) => [d.sequenceNumber, d.deadLetterReason, d.deadLetterErrorDescription])).toEqual([
      [1, 'WebhookFailed', 'gave up on e1'],
      [2, 'WebhookFailed', 'gave up on e2'],
    ]);
    const page2 = await bus.peekDeadLetters(WEBHOOKS, { limit: 2, fromSequenceNumber: 3 });
    expect(page2.map((d) => d.message.messageId)).toEqual(['e3']);
    // Peeking does not lock or remove.
    expect(await bus.countDeadLetters(WEBHOOKS)).toBe(3);
    // Resubmitting into a subscription takes the next number of its topic.
    expect(await bus.resubmitDeadLetter(WEBHOOKS, 2)).toBe(4);
    expect(ids(await bus.receive(WEBHOOKS, { maxMessages: 10 }))).toEqual(['e2']);
    await bus.send(EVENTS_TOPIC, [event('e5', 'user_update')]);
    expect((await bus.receive(ADMIN, { maxMessages: 10 })).map((m) => m.sequenceNumber)).toEqual([
      1, 2, 3, 5,
    ]);
  });
});

describe('EmbeddedBus: duplicate detection and scheduling', () => {
  it('drops a messageId seen on the same entity inside the window, and accepts it after', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1, 0, 0, 0, 700));
    const bus = newBus({ clock });
    await bus.send('work', [msg('a', { body: 1 }), msg('a', { body: 2 })]);
    clock.advance(999);
    await bus.send('work', [msg('a', { body: 3 }), msg('b')]);
    await bus.send('other', [msg('a', { body: 'other queue' })]);
    await bus.send('events', [msg('a', { body: 'topic' }), msg('a', { body: 'topic again' })]);
    expect((await drain(bus, 'work')).map((m) => m.message.body)).toEqual([1, { id: 'b' }]);
    expect((await drain(bus, 'other')).map((m) => m.message.body)).toEqual(['other queue']);
    expect((await drain(bus, ALL)).map((m) => m.message.body)).toEqual(['topic']);
    // Exactly one window after the first sighting, the id is new again (even though 'a' was
    // completed long ago, and even though the retry at +999 ms was dropped).
    clock.advance(1);
    await bus.send('work', [msg('a', { body: 4 })]);
    clock.advance(500);
    await bus.send('work', [msg('a', { body: 5 })]);
    expect((await drain(bus, 'work')).map((m) => m.message.body)).toEqual([4]);
    // Long after, across several windows, old ids are forgotten and sends keep working.
    clock.advance(10_000);
    await bus.send('work', [msg('a', { body: 6 }), msg('b', { body: 7 })]);
    expect((await drain(bus, 'work')).map((m) => m.message.body)).toEqual([6, 7]);
  });

  it('forgets ids older than the window a chunk per send, keeping the newer ones', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const bus = openEmbeddedBus(dir, TOPOLOGY, { clock });
    open.push(bus);
    const raw = new Database(join(dir, 'bus.db'), { readonly: true });
    const workId = raw.prepare('SELECT id FROM entities WHERE path = ?').pluck().get('work') as number;
    const remembered = () => raw.prepare(`SELECT count(*) FROM seen_ids_${workId}`).pluck().get() as number;
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => msg(`${prefix}${i}`));
    await bus.send('work', many('old', 2500));
    clock.advance(1000);
    await bus.send('work', many('recent', 10));
    expect(remembered()).toBe(2510);
    clock.advance(1000);
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await bus.send('work', [msg(`new${i}`)]);
      counts.push(remembered());
    }
    // 'old…' (two windows back) goes 1000 at a time; 'recent…' and 'new…' stay.
    expect(counts).toEqual([1511, 512, 13, 14]);
    await bus.send('work', [msg('recent0'), msg('old0')]);
    expect(ids(await drain(bus, 'work')).slice(-2)).toEqual(['recent0', 'old0']);
    raw.close();
  });

  it('a duplicate detection window of 0 turns detection off', async () => {
    const bus = newBus({ topology: { ...TOPOLOGY, duplicateDetectionWindowMs: 0 } });
    await bus.send('work', [msg('a'), msg('a')]);
    expect(await bus.countActive('work')).toBe(2);
  });

  it('a scheduled message stays invisible until its time, then arrives enqueued at that time', async () => {
    const clock = new ManualClock();
    const bus = newBus({ clock });
    const at = clock.now() + 5000;
    await bus.send('events', [
      msg('later', { scheduledEnqueueTimeUtc: new Date(at) }),
      msg('past', { scheduledEnqueueTimeUtc: new Date(clock.now() - 1000) }),
      msg('now'),
    ]);
    expect(await bus.countScheduled(ALL)).toBe(1);
    expect(await bus.countActive(ALL)).toBe(2);
    expect(ids(await drain(bus, ALL))).toEqual(['past', 'now']);
    expect(await bus.nextVisibleAt(ALL)).toBe(at);
    clock.advance(4999);
    expect(await bus.receive(ALL, { maxMessages: 5 })).toEqual([]);
    clock.advance(1);
    expect(await bus.countScheduled(ALL)).toBe(0);
    const [later] = await bus.receive(ALL, { maxMessages: 5 });
    expect(later).toMatchObject({
      sequenceNumber: 1,
      message: { messageId: 'later', deliveryCount: 1, enqueuedTimeUtc: new Date(at) },
    });
  });
});

describe('EmbeddedBus: onAvailable', () => {
  it('fires once per turn after sends commit, only for entities that received messages', async () => {
    const bus = newBus({ topology: BUS_TOPOLOGY });
    const calls = { admin: 0, user: 0, commands: 0 };
    const offAdmin = bus.onAvailable(ADMIN, () => calls.admin++);
    bus.onAvailable(USER, () => calls.user++);
    bus.onAvailable(COMMANDS_QUEUE, () => calls.commands++);
    await sleep(20);
    expect(calls).toEqual({ admin: 0, user: 0, commands: 0 });
    const sends = [1, 2, 3].map((i) => bus.send(EVENTS_TOPIC, [event(`custom-${i}`, 'portal_custom')]));
    // Not synchronously inside send: on a later turn, coalesced.
    expect(calls.admin).toBe(0);
    await Promise.all(sends);
    await waitFor(() => calls.admin > 0);
    await sleep(20);
    expect(calls).toEqual({ admin: 1, user: 0, commands: 0 });
    await bus.send(EVENTS_TOPIC, [event('u', 'user_update')]);
    await waitFor(() => calls.user === 1);
    expect(calls.admin).toBe(2);
    offAdmin();
    offAdmin();
    await bus.send(EVENTS_TOPIC, [event('u2', 'user_update')]);
    await waitFor(() => calls.user === 2);
    expect(calls.admin).toBe(2);
    // A duplicate stores nothing, so nobody hears about it.
    await bus.send(EVENTS_TOPIC, [event('u2', 'user_update')]);
    await sleep(20);
    expect(calls.user).toBe(2);
  });

  it('fires soon after subscribing when messages are already waiting', async () => {
    const bus = newBus();
    await bus.send('work', [msg('a')]);
    let calls = 0;
    bus.onAvailable('work', () => calls++);
    await waitFor(() => calls === 1);
  });

  it('fires when a scheduled message, a delayed abandon and an expired lock become visible (real clock)', async () => {
    const bus = newBus();
    const seen: number[] = [];
    bus.onAvailable('work', () => seen.push(Date.now()));
    const start = Date.now();
    await bus.send('work', [msg('s', { scheduledEnqueueTimeUtc: new Date(start + 150) })]);
    await waitFor(() => seen.length === 1);
    // Not before its time (the send itself announced nothing: the message was not visible yet).
    expect(seen[0]).toBeGreaterThanOrEqual(start + 150);
    const [s] = await bus.receive('work', { maxMessages: 1, lockDurationMs: 60_000 });
    const abandonedAt = Date.now();
    await bus.abandon(s?.lockToken ?? '', { retryAfterMs: 100 });
    await waitFor(() => seen.length === 2);
    expect(seen[1]).toBeGreaterThanOrEqual(abandonedAt + 100);
    const lockedAt = Date.now();
    const [again] = await bus.receive('work', { maxMessages: 1, lockDurationMs: 100 });
    expect(again?.message.deliveryCount).toBe(2);
    await waitFor(() => seen.length === 3);
    expect(seen[2]).toBeGreaterThanOrEqual(lockedAt + 100);
    const [third] = await bus.receive('work', { maxMessages: 1 });
    expect(third?.message.deliveryCount).toBe(3);
    // Completed before its lock expires: nothing more to announce.
    await bus.complete(third?.lockToken ?? '');
    await sleep(50);
    expect(seen).toHaveLength(3);
  });

  it('close() stops the timer and the listeners', async () => {
    const bus = newBus();
    let calls = 0;
    bus.onAvailable('work', () => calls++);
    await bus.send('work', [msg('s', { scheduledEnqueueTimeUtc: new Date(Date.now() + 50) })]);
    await bus.send('work', [msg('now')]);
    await bus.close();
    await sleep(120);
    expect(calls).toBe(0);
    await expectBusError(bus.countActive('work'), 'GeneralError', 'closed');
  });
});

describe('EmbeddedBus: durability', () => {
  const CHILD_SOURCE = `
    import { createInterface } from 'node:readline';
    import { EmbeddedBus } from ${JSON.stringify(join(REPO, 'shared/adapters/embedded/embedded-bus'))};
    import { BUS_TOPOLOGY, COMMANDS_QUEUE, EVENTS_TOPIC } from ${JSON.stringify(join(REPO, 'shared/domain/bus-topology'))};

    async function main(): Promise<void> {
      const [path, prefix, countArg] = process.argv.slice(2);
      const bus = new EmbeddedBus({ path: path as string, topology: BUS_TOPOLOGY });
      process.stdout.write('ready\\n');
      await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
      for (let i = 0; i < Number(countArg); i++) {
        const entity = i % 2 === 0 ? EVENTS_TOPIC : COMMANDS_QUEUE;
        const size = (i % 3) + 1;
        const batch = Array.from({ length: size }, (_, j) => ({
          messageId: prefix + '-' + i + '-' + j,
          body: { i, j, pad: 'x'.repeat((i * 7) % 300) },
          applicationProperties: { eventType: 'user_update' },
        }));
        await bus.send(entity, batch);
        // A printed line is an acknowledged send.
        process.stdout.write(entity + ' ' + batch.map((m) => m.messageId).join(',') + '\\n');
      }
      await bus.close();
      process.stdout.write('done\\n');
    }
    main().catch((error) => { console.error(error); process.exit(1); });
  `;

  function startChild(path: string, prefix: string, count: number) {
    const script = join(tempDir(), 'bus-child.ts');
    writeFileSync(script, CHILD_SOURCE);
    const child = spawn(process.execPath, ['--require', REGISTER_TS, script, path, prefix, String(count)], {
      stdio: 'pipe',
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout });
    const acked: { entity: string; ids: string[] }[] = [];
    const ready = new Promise<void>((resolveReady, reject) => {
      lines.on('line', (line) => {
        if (line === 'ready') return resolveReady();
        const [entity, list] = line.split(' ');
        if (entity && list) acked.push({ entity, ids: list.split(',') });
      });
      child.once('exit', () => reject(new Error(`child exited before ready: ${stderr}`)));
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    return { child, acked, ready, exited, go: () => child.stdin.end('go\n'), stderr: () => stderr };
  }

  /** Every message in every entity of BUS_TOPOLOGY, by entity path. */
  async function everything(path: string): Promise<Map<string, LockedMessage[]>> {
    const bus = new EmbeddedBus({ path, topology: BUS_TOPOLOGY });
    const result = new Map<string, LockedMessage[]>();
    for (const entity of [COMMANDS_QUEUE, ADMIN, USER, WEBHOOKS])
      result.set(entity, await drain(bus, entity));
    await bus.close();
    return result;
  }

  it('every send acknowledged before a kill -9 is there exactly once after reopening; no batch is torn', async () => {
    const path = join(tempDir(), 'bus.db');
    const child = startChild(path, 'k', 1_000_000);
    await child.ready;
    child.go();
    await waitFor(() => child.acked.length >= 400, 20_000);
    child.child.kill('SIGKILL');
    const [code, signal] = await child.exited;
    expect({ code, signal, stderr: child.stderr() }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
    const acked = child.acked.slice();
    expect(acked.length).toBeGreaterThanOrEqual(400);

    const stored = await everything(path);
    for (const [entity, messages] of stored) {
      const counts = new Map<string, number>();
      for (const m of messages) counts.set(m.message.messageId, (counts.get(m.message.messageId) ?? 0) + 1);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      const seqs = messages.map((m) => m.sequenceNumber);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      const expected = acked.filter((a) => (a.entity === COMMANDS_QUEUE) === (entity === COMMANDS_QUEUE));
      for (const batch of expected)
        for (const id of batch.ids) expect([entity, id, counts.get(id)]).toEqual([entity, id, 1]);
      // At most the one send in flight at the kill may be stored unacknowledged, and only whole.
      const ackedIds = new Set(expected.flatMap((a) => a.ids));
      const extra = [...counts.keys()].filter((id) => !ackedIds.has(id));
      const extraBatches = new Set(extra.map((id) => id.split('-').slice(0, 2).join('-')));
      expect(extraBatches.size).toBeLessThanOrEqual(1);
      for (const batch of extraBatches) {
        const i = Number(batch.split('-')[1]);
        expect(extra.filter((id) => id.startsWith(`${batch}-`))).toHaveLength((i % 3) + 1);
      }
    }
    expect(stored.get(ADMIN)?.length).toBe(stored.get(WEBHOOKS)?.length);
    expect(stored.get(ADMIN)?.length).toBe(stored.get(USER)?.length);
  }, 30_000);

  it('two processes sending to one file share one sequence per entity and lose nothing', async () => {
    const path = join(tempDir(), 'bus.db');
    // Create the file first so the children do not race to create the schema.
    await new EmbeddedBus({ path, topology: BUS_TOPOLOGY }).close();
    const children = [startChild(path, 'p', 300), startChild(path, 'q', 300)];
    await Promise.all(children.map((c) => c.ready));
    children.forEach((c) => c.go());
    const exits = await Promise.all(children.map((c) => c.exited));
    expect(exits).toEqual([
      [0, null],
      [0, null],
    ]);
    const stored = await everything(path);
    const queue = stored.get(COMMANDS_QUEUE) ?? [];
    const admin = stored.get(ADMIN) ?? [];
    // 150 sends of 1-3 messages each to each entity, per child.
    const perChild = (entity: string) =>
      children[0]?.acked.filter((a) => a.entity === entity).flatMap((a) => a.ids).length ?? 0;
    expect(queue).toHaveLength(2 * perChild(COMMANDS_QUEUE));
    expect(admin).toHaveLength(2 * perChild(EVENTS_TOPIC));
    for (const messages of [queue, admin]) {
      const seqs = messages.map((m) => m.sequenceNumber);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
  }, 30_000);
});

describe('EmbeddedBus: model-based property', () => {
  // Commands against the bus and a plain model of a queue; after any interleaving, every message
  // sent is completed exactly once or dead-lettered, and nothing completed ever comes back.
  interface ModelMessage {
    id: string;
    deliveries: number;
    visibleAt: number;
    token?: string;
  }
  interface Model {
    now: number;
    active: ModelMessage[];
    sent: string[];
    completed: Map<string, number>;
    dead: string[];
    held: string[];
  }
  interface Real {
    bus: EmbeddedBus;
    clock: ManualClock;
    path: string;
  }
  const LOCK = 1000;
  const MAX_DELIVERIES = 3;
  const QUEUE_TOPOLOGY: BusTopology = {
    topics: [],
    queues: [{ name: 'q', maxDeliveryCount: MAX_DELIVERIES }],
    duplicateDetectionWindowMs: 3_600_000,
  };
  const reopen = (real: Real) => {
    real.bus = new EmbeddedBus({
      path: real.path,
      topology: QUEUE_TOPOLOGY,
      clock: real.clock,
      lockDurationMs: LOCK,
    });
  };
  const holdAt = (model: Model, index: number) => model.held[index % model.held.length] as string;
  const byToken = (model: Model, token: string) =>
    model.active.find((m) => m.token === token && m.visibleAt > model.now);

  class Send implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly count: number,
      readonly resend: number | undefined,
    ) {}
    check = () => true;
    async run(model: Model, real: Real) {
      const batch: string[] = [];
      for (let i = 0; i < this.count; i++) {
        batch.push(
          this.resend !== undefined && model.sent.length > 0
            ? (model.sent[this.resend % model.sent.length] as string)
            : `m${model.sent.length + batch.length}`,
        );
      }
      await real.bus.send(
        'q',
        batch.map((id) => msg(id)),
      );
      for (const id of batch) {
        if (model.sent.includes(id)) continue; // duplicate detection drops it
        model.sent.push(id);
        model.active.push({ id, deliveries: 0, visibleAt: model.now });
      }
    }
    toString = () => `send(${this.count}${this.resend === undefined ? '' : `, resend ${this.resend}`})`;
  }

  class Receive implements fc.AsyncCommand<Model, Real> {
    constructor(readonly max: number) {}
    check = () => true;
    async run(model: Model, real: Real) {
      const got = await real.bus.receive('q', { maxMessages: this.max });
      const expected: ModelMessage[] = [];
      for (const m of model.active.filter((x) => x.visibleAt <= model.now)) {
        if (expected.length === this.max) break;
        if (m.deliveries >= MAX_DELIVERIES) {
          model.active.splice(model.active.indexOf(m), 1);
          model.dead.push(m.id);
          continue;
        }
        expected.push(m);
      }
      expect(got.map((g) => [g.message.messageId, g.message.deliveryCount])).toEqual(
        expected.map((m) => [m.id, m.deliveries + 1]),
      );
      got.forEach((g, i) => {
        const m = expected[i] as ModelMessage;
        m.deliveries++;
        m.visibleAt = model.now + LOCK;
        m.token = g.lockToken;
        model.held.push(g.lockToken);
        expect(model.completed.has(m.id)).toBe(false);
      });
    }
    toString = () => `receive(${this.max})`;
  }

  class Settle implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly how: 'complete' | 'abandon',
      readonly index: number,
    ) {}
    check = (model: Readonly<Model>) => model.held.length > 0;
    async run(model: Model, real: Real) {
      const token = holdAt(model, this.index);
      model.held.splice(model.held.indexOf(token), 1);
      const target = byToken(model, token);
      const result = real.bus[this.how](token).then(
        () => 'ok',
        (e: unknown) => (isEmbeddedBusError(e, 'MessageLockLost') ? 'lost' : e),
      );
      expect(await result).toBe(target ? 'ok' : 'lost');
      if (!target) return;
      target.token = undefined;
      if (this.how === 'complete') {
        model.active.splice(model.active.indexOf(target), 1);
        model.completed.set(target.id, (model.completed.get(target.id) ?? 0) + 1);
      } else {
        target.visibleAt = model.now;
      }
    }
    toString = () => `${this.how}(${this.index})`;
  }

  class Advance implements fc.AsyncCommand<Model, Real> {
    constructor(readonly ms: number) {}
    check = () => true;
    async run(model: Model, real: Real) {
      model.now += this.ms;
      real.clock.advance(this.ms);
    }
    toString = () => `advance(${this.ms})`;
  }

  class Reopen implements fc.AsyncCommand<Model, Real> {
    check = () => true;
    async run(_model: Model, real: Real) {
      await real.bus.close();
      reopen(real);
    }
    toString = () => 'reopen';
  }

  it('no interleaving of send/receive/complete/abandon/lock expiry/reopen loses or duplicates a message', async () => {
    const commands = [
      fc
        .tuple(fc.integer({ min: 1, max: 3 }), fc.option(fc.nat(20), { nil: undefined }))
        .map(([n, r]) => new Send(n, r)),
      fc.integer({ min: 1, max: 3 }).map((n) => new Receive(n)),
      fc.nat(10).map((i) => new Settle('complete', i)),
      fc.nat(10).map((i) => new Settle('abandon', i)),
      fc.constantFrom(0, 1, 500, 999, 1000, 1500).map((ms) => new Advance(ms)),
      fc.constant(new Reopen()),
    ];
    const dir = tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'max' }), async (cmds) => {
        const clock = new ManualClock();
        const real: Real = {
          bus: undefined as unknown as EmbeddedBus,
          clock,
          path: join(dir, `run-${run++}.db`),
        };
        reopen(real);
        const model: Model = {
          now: clock.now(),
          active: [],
          sent: [],
          completed: new Map(),
          dead: [],
          held: [],
        };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          expect(await real.bus.countActive('q')).toBe(model.active.length);
          // Drain: let every lock expire, then complete whatever is left.
          clock.advance(LOCK);
          model.now += LOCK;
          for (const m of await drain(real.bus, 'q')) {
            model.completed.set(m.message.messageId, (model.completed.get(m.message.messageId) ?? 0) + 1);
          }
          const dead = (await real.bus.peekDeadLetters('q', { limit: 1000 })).map((d) => d.message.messageId);
          expect([...model.completed.values()].every((n) => n === 1)).toBe(true);
          expect([...model.completed.keys(), ...dead].sort()).toEqual([...model.sent].sort());
          expect(dead.sort()).toEqual(expect.arrayContaining(model.dead));
        } finally {
          await real.bus.close();
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});

describe('EmbeddedBus: cost', () => {
  it('sends and receive+completes cheaply (prints µs per operation)', async () => {
    const bus = openEmbeddedBus(tempDir(), BUS_TOPOLOGY);
    open.push(bus);
    const n = 2000;
    const body = {
      specversion: '1.0',
      type: 'user_update',
      source: '/bridge/users/u1',
      data: { name: 'Ada' },
    };
    let start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await bus.send(COMMANDS_QUEUE, [{ messageId: `c${i}`, body }]);
    const sendUs = Number(process.hrtime.bigint() - start) / 1000 / n;
    start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const [m] = await bus.receive(COMMANDS_QUEUE, { maxMessages: 1 });
      await bus.complete(m?.lockToken ?? '');
    }
    const receiveUs = Number(process.hrtime.bigint() - start) / 1000 / n;
    console.log(
      `embedded bus: send ${sendUs.toFixed(1)} µs/message, receive+complete ${receiveUs.toFixed(1)} µs`,
    );
    expect(await bus.countActive(COMMANDS_QUEUE)).toBe(0);
    // Generous bounds: a shared CI machine, but a regression to milliseconds fails.
    expect(sendUs).toBeLessThan(2000);
    expect(receiveUs).toBeLessThan(2000);
  });
});
