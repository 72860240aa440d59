/**
 * Issue 9 item 1, at the service level: every event the bridge accepts is publishable (too large:
 * refused before anything commits; ids of any length: bus message ids that fit), and one event
 * the bus refuses never strands the others of its batch (retried per event, quarantined with the
 * reason, never retried forever). Backpressure (WriteAdmission) bounds what waits for consumers.
 */
import type { MessageSender, OutgoingMessage } from '../../../shared/ports/message-sender';
import { busMessageId, toBusMessage, withSequence } from '../../../shared/domain/cloud-event';
import { ServiceError } from '../../../shared/services/errors';
import { EventTooLargeError } from '../../../shared/services/event-outbox';
import { keyPrincipal } from '../../../shared/services/principal';
import { LIVE_DEADLINE_MS } from '../../../shared/services/webhook-service';
import { WriteAdmission } from '../../../shared/services/write-admission';
import { makeEventHarness, type EventHarness } from '../../helpers/event-services';
import { makeTestServices } from '../../helpers/test-services';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bus that refuses some messages as Service Bus would (MessageSizeExceeded) and can be down. */
class PickyBus implements MessageSender {
  readonly accepted: OutgoingMessage[] = [];
  down = false;
  constructor(private readonly refuse: (message: OutgoingMessage) => boolean) {}
  async send(_entity: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.down)
      throw Object.assign(new Error('connection reset'), { code: 'ServiceCommunicationProblem' });
    const refused = messages.find((m) => this.refuse(m));
    if (refused) {
      throw Object.assign(new Error(`message ${refused.messageId} is too large`), {
        code: 'MessageSizeExceeded',
      });
    }
    this.accepted.push(...messages);
  }
  async close(): Promise<void> {}
}

describe('every accepted event is publishable', () => {
  let h: EventHarness;
  afterEach(() => h.cleanup());

  it('a sync whose event would exceed BRIDGE_MAX_EVENT_BYTES is refused with 413 and changes nothing', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false', BRIDGE_MAX_EVENT_BYTES: '65536' });
    await h.services.sync.sync('ann', { data: { a: 1 } }, 'admin');
    const error = await h.services.sync
      .sync('ann', { data: { bio: 'x'.repeat(300 * 1024) } }, 'admin')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect((error as ServiceError).kind).toBe('payload-too-large');
    expect((error as Error).message).toMatch(/BRIDGE_MAX_EVENT_BYTES/);
    expect(await h.services.sync.get('ann')).toMatchObject({ version: 1, data: { a: 1 } });
    expect((await h.services.events.replay({ limit: 10 })).events).toHaveLength(1);
    // Multi-byte characters count as the bytes they take, not as characters.
    await expect(
      h.services.state.put('big', { value: 'é'.repeat(40 * 1024) }), // ~80 KB of UTF-8
    ).rejects.toBeInstanceOf(EventTooLargeError);
    expect(await h.services.state.get('big')).toBeUndefined();
    await h.services.state.put('small', { value: 'é'.repeat(20 * 1024) });
  });

  it('events with ids longer than the bus accepts travel under a hashed message id; the CloudEvent id stays', async () => {
    h = makeEventHarness();
    const longUser = `u${'x'.repeat(124)}`; // 125 characters: its event id is 132
    const longKey = `k${'y'.repeat(128)}`; // 129 characters
    await h.services.sync.sync(longUser, { data: { a: 1 } }, 'admin');
    await h.services.state.put(longKey, { value: 1 });
    await h.services.propagator.drain();
    const events = await h.drain('admin-portal');
    expect(events.map((e) => e.id)).toEqual([`user:${longUser}:1`, expect.stringMatching(/^state:k/)]);
    const message = toBusMessage(withSequence(events[0]!, 1));
    expect(message.messageId).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(message.messageId.length).toBeLessThanOrEqual(128);
    // Deterministic: a resend is still recognised by duplicate detection.
    expect(busMessageId(events[0]!.id)).toBe(message.messageId);
    expect(busMessageId('user:ann:1')).toBe('user:ann:1');
    expect((await h.services.lockstep.status()).quarantine.count).toBe(0);
  });
});

describe('one refused event never strands the others', () => {
  let h: EventHarness;
  afterEach(() => h.cleanup());

  it('a failing batch is retried per event: the good ones publish, the refused one is quarantined once', async () => {
    const bus = new PickyBus((m) => m.messageId.startsWith('user:poison:'));
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' }, undefined, { bus });
    for (const user of ['a1', 'poison', 'a2', 'a3']) {
      await h.services.sync.sync(user, { data: { n: 1 } }, 'admin');
    }
    const outcome = await h.services.propagator.sweep(0);
    expect(outcome).toMatchObject({ published: 3, quarantined: 1 });
    expect(bus.accepted.map((m) => m.messageId).sort()).toEqual(['user:a1:1', 'user:a2:1', 'user:a3:1']);
    // Quarantined with the reason, visible to admins and in lockstep status; never retried.
    const { items } = await h.services.quarantine.list(10);
    expect(items.map((q) => [q.eventId, q.where])).toEqual([['user:poison:1', 'bus']]);
    expect(items[0]?.reason).toMatch(/too large for the bus/);
    expect(await h.services.propagator.sweep(0)).toMatchObject({ published: 0, quarantined: 0 });
    const status = await h.services.lockstep.status();
    expect(status.quarantine).toMatchObject({ count: 1, latest: [{ eventId: 'user:poison:1' }] });
    expect(status.changeFeed.pendingEvents).toBe(0);
    expect(status.health).toBe('WARNING');
    // Still refused: the redelivery says so and the entry stays.
    const id = items[0]?.id as string;
    await expect(h.services.quarantine.redeliver(id)).rejects.toMatchObject({ kind: 'conflict' });
    expect((await h.services.quarantine.list(10)).items).toHaveLength(1);
  });

  it('after a fix, an admin redelivers the quarantined event and the status clears', async () => {
    let refuse = true;
    const bus = new PickyBus((m) => refuse && m.messageId.startsWith('user:poison:'));
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' }, undefined, { bus });
    await h.services.sync.sync('poison', { data: { n: 1 } }, 'admin');
    await h.services.propagator.sweep(0);
    const [entry] = (await h.services.quarantine.list(10)).items;
    refuse = false;
    await h.services.quarantine.redeliver(entry?.id as string);
    expect(bus.accepted.map((m) => m.messageId)).toEqual(['user:poison:1']);
    expect((await h.services.quarantine.list(10)).items).toEqual([]);
    expect((await h.services.lockstep.status()).quarantine.count).toBe(0);
    expect(await h.services.quarantine.dismiss(entry?.id as string)).toBe(false);
  });

  it('a bus that is down is not a refusal: nothing is quarantined and the events stay pending', async () => {
    const bus = new PickyBus(() => false);
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' }, undefined, { bus });
    await h.services.sync.sync('b1', { data: { n: 1 } }, 'admin');
    await h.services.sync.sync('b2', { data: { n: 1 } }, 'admin');
    bus.down = true;
    await expect(h.services.propagator.sweep(0)).rejects.toThrow('connection reset');
    expect((await h.services.quarantine.list(10)).items).toEqual([]);
    expect((await h.services.propagator.pending()).pendingEvents).toBe(2);
    bus.down = false;
    expect(await h.services.propagator.sweep(0)).toMatchObject({ published: 2, quarantined: 0 });
  });
});

describe('write admission (backpressure)', () => {
  const pressure = { backlog: 0, lag: 0 };
  const gauge = { backlog: () => pressure.backlog, lagMs: () => pressure.lag };

  it('lets writes through while there is room, holds them (in order) while there is none', async () => {
    const admission = new WriteAdmission(gauge, { backlogMax: 10, lagMaxMs: 100, waitMs: 5_000 });
    pressure.backlog = 3;
    pressure.lag = 20;
    await admission.admit();
    pressure.backlog = 10;
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) => admission.admit().then(() => order.push(n)));
    await sleep(10);
    expect(order).toEqual([]);
    expect(admission.waitingWrites).toBe(3);
    pressure.backlog = 8; // room for two
    admission.progress();
    await sleep(0);
    expect(order).toEqual([1, 2]);
    pressure.backlog = 9;
    pressure.lag = 500; // the oldest waits too long: no room whatever the count
    admission.progress();
    await sleep(0);
    expect(order).toEqual([1, 2]);
    pressure.lag = 10;
    admission.progress();
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  it('refuses a write that found no room within waitMs with 503 and Retry-After', async () => {
    const admission = new WriteAdmission(gauge, { backlogMax: 1, lagMaxMs: 100, waitMs: 20 });
    pressure.backlog = 1;
    pressure.lag = 0;
    const error = await admission.admit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ kind: 'unavailable', hints: { retryAfterSeconds: 1 } });
    expect(admission.waitingWrites).toBe(0);
  });

  it("the services' admission also waits for events queued behind a webhook subscription's POSTs", async () => {
    const { services, cleanup } = makeTestServices({
      BRIDGE_EVENT_TOPIC: 'outbox',
      BRIDGE_BACKPRESSURE_WAIT_MS: '30',
    });
    try {
      const admission = services.admission as WriteAdmission;
      const lag = jest.spyOn(services.webhooks, 'lagMs').mockReturnValue(60_000);
      const error = await admission.admit().catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'unavailable' });
      lag.mockReturnValue(0);
      await expect(admission.admit()).resolves.toBeUndefined();
    } finally {
      await cleanup();
    }
  });
});

describe('a slow webhook endpoint never holds back the live path', () => {
  let h: EventHarness;
  afterEach(() => h.cleanup());

  it('misses the deadline once, then is served from the retry queue; a late success drops its retry', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' });
    const owner = keyPrincipal('tester', 'admin', 'tester');
    const fast = await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/fast', owner);
    const slow = await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/slow', owner);
    const posted: string[] = [];
    h.transport.post = async (url: string) => {
      posted.push(url);
      if (url.endsWith('/slow')) await sleep(LIVE_DEADLINE_MS + 300);
      return { status: 204 };
    };
    await h.services.sync.sync('ann', { data: { n: 1 } }, 'admin');
    await h.services.sync.sync('ann', { data: { n: 2 } }, 'admin');
    const [first, second] = (await h.services.events.replay({ limit: 10 })).events;
    const started = Date.now();
    expect(await h.services.webhooks.fanOut(first!)).toEqual({ delivered: 1, scheduled: 1 });
    // Bounded by the deadline, not by the slow endpoint.
    expect(Date.now() - started).toBeLessThan(LIVE_DEADLINE_MS + 250);
    // The next event does not even try the slow endpoint live.
    expect(await h.services.webhooks.fanOut(second!)).toEqual({ delivered: 1, scheduled: 1 });
    expect(posted.filter((u) => u.endsWith('/slow'))).toHaveLength(1);
    await sleep(400); // the first attempt succeeds late
    const queued = await h.bus.receive('webhook-retries', { maxMessages: 10 });
    expect(queued.map((m) => (m.message.body as { subscriptionId: string }).subscriptionId)).toEqual([
      slow.id,
      slow.id,
    ]);
    const outcomes = [];
    for (const m of queued) {
      outcomes.push(await h.services.webhooks.retry(m.message.body as never, m.message.messageId));
    }
    // The late success made the first retry unnecessary; the deferred one delivers the second event.
    expect(outcomes).toEqual(['dropped', 'delivered']);
    expect(fast.id).not.toBe(slow.id);
  });
});
