import { Webhook } from 'standardwebhooks';
import { setServices } from '../../../shared/container';
import type { BridgeCloudEvent } from '../../../shared/domain/cloud-event';
import { MAX_EVENTS_PER_BATCH } from '../../../shared/domain/webhook-batching';
import { keyPrincipal } from '../../../shared/services/principal';
import { makeEventHarness, type EventHarness } from '../../helpers/event-services';
import { ManualClock } from '../../helpers/test-services';

const owner = keyPrincipal('batch-owner', 'service', 'batch-owner');
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batched webhook delivery (maxEventsPerBatch)', () => {
  let h: EventHarness;
  afterEach(async () => {
    setServices(undefined);
    await h.cleanup();
  });

  /** n user_update events, committed and taken from the webhooks subscription. */
  async function events(n: number): Promise<BridgeCloudEvent[]> {
    for (let i = 0; i < n; i++) await h.services.sync.sync(`b${i}`, { data: { i } }, 'admin');
    await h.services.propagator.drain();
    const got = await h.drain('webhooks');
    expect(got).toHaveLength(n);
    return got;
  }

  it('sends the events of a turn as signed JSON arrays of at most maxEventsPerBatch, in order', async () => {
    h = makeEventHarness({}, new ManualClock(Date.now()));
    const sub = await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/batch', owner, {
      maxEventsPerBatch: 5,
    });
    expect(sub.maxEventsPerBatch).toBe(5);
    expect((await h.services.webhooks.get(sub.id, owner))?.maxEventsPerBatch).toBe(5);
    const all = await events(12);

    const outcomes = await Promise.all(all.map((e) => h.services.webhooks.fanOut(e)));
    expect(outcomes).toEqual(all.map(() => ({ delivered: 1, scheduled: 0 })));
    // 12 events that arrive together: 5 + 5 + 2.
    const posts = h.transport.posts;
    expect(posts.map((p) => (JSON.parse(p.body) as unknown[]).length)).toEqual([5, 5, 2]);
    const received: string[] = [];
    for (const post of posts) {
      expect(post.headers['content-type']).toBe('application/cloudevents-batch+json');
      expect(post.headers['webhook-id']).toMatch(/^batch_[0-9a-f]{32}$/);
      const batch = new Webhook(sub.secret).verify(post.body, post.headers) as BridgeCloudEvent[];
      received.push(...batch.map((e) => e.id));
    }
    expect(received).toEqual(all.map((e) => e.id));

    // One attempt per event, each saying how many events its POST carried.
    await turn();
    await turn();
    const attempts = await h.services.webhooks.attemptsFor(owner, sub.id, 100);
    expect(attempts).toHaveLength(12);
    expect(attempts.map((a) => a.batchSize).sort()).toEqual([2, 2, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
  });

  it('without it, one event per POST and at most 64 out; the rest wait, and their wait is the lag backpressure reads', async () => {
    const clock = new ManualClock(Date.now());
    h = makeEventHarness({}, clock);
    await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/one', owner);
    const all = await events(70);
    h.transport.holding = true;
    const fanOuts = all.map((e) => h.services.webhooks.fanOut(e));
    await turn();
    expect(h.transport.posts).toHaveLength(64);
    expect(h.transport.posts.every((p) => p.headers['content-type'] === 'application/cloudevents+json')).toBe(
      true,
    );
    clock.advance(40);
    expect(h.services.webhooks.lagMs()).toBe(40);
    h.transport.release();
    expect(await Promise.all(fanOuts)).toEqual(all.map(() => ({ delivered: 1, scheduled: 0 })));
    expect(h.transport.posts.map((p) => (JSON.parse(p.body) as BridgeCloudEvent).id)).toEqual(
      all.map((e) => e.id),
    );
    clock.advance(10);
    expect(h.services.webhooks.lagMs()).toBe(0);
  });

  it('a failed batch is retried event by event, each still as a batch of one', async () => {
    const clock = new ManualClock(Date.now());
    h = makeEventHarness({ BRIDGE_WEBHOOK_BACKOFF_BASE_MS: '10' }, clock);
    const sub = await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/batch', owner, {
      maxEventsPerBatch: 10,
    });
    const all = await events(3);
    h.transport.answers = [503];
    const outcomes = await Promise.all(all.map((e) => h.services.webhooks.fanOut(e)));
    expect(outcomes).toEqual(all.map(() => ({ delivered: 0, scheduled: 1 })));
    expect(h.transport.posts).toHaveLength(1);

    clock.advance(30); // past the backoff: the three retries are due
    const retries = await h.bus.receive('webhook-retries', { maxMessages: 10 });
    expect(retries.map((r) => (r.message.body as { event: BridgeCloudEvent }).event.id).sort()).toEqual(
      all.map((e) => e.id).sort(),
    );
    for (const r of retries)
      expect(await h.services.webhooks.retry(r.message.body as never)).toBe('delivered');
    const singles = h.transport.posts.slice(1);
    expect(singles).toHaveLength(3);
    for (const post of singles) {
      expect(post.headers['content-type']).toBe('application/cloudevents-batch+json');
      const batch = new Webhook(sub.secret).verify(post.body, post.headers) as BridgeCloudEvent[];
      expect(batch).toHaveLength(1);
      // A batch of one carries the event's own id, as a single delivery does.
      expect(post.headers['webhook-id']).toBe(batch[0]!.id);
    }
  });

  it('subscriptions without maxEventsPerBatch still get one CloudEvent per POST', async () => {
    h = makeEventHarness({}, new ManualClock(Date.now()));
    const sub = await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/single', owner);
    expect(sub).not.toHaveProperty('maxEventsPerBatch');
    const all = await events(3);
    await Promise.all(all.map((e) => h.services.webhooks.fanOut(e)));
    expect(h.transport.posts).toHaveLength(3);
    for (const post of h.transport.posts) {
      expect(post.headers['content-type']).toBe('application/cloudevents+json');
      expect(new Webhook(sub.secret).verify(post.body, post.headers)).toMatchObject({ type: 'user_update' });
    }
  });

  it('refuses a maxEventsPerBatch outside 1–100 and stores nothing', async () => {
    h = makeEventHarness({});
    for (const bad of [0, MAX_EVENTS_PER_BATCH + 1, 2.5, -1]) {
      await expect(
        h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/x', owner, {
          maxEventsPerBatch: bad,
        }),
      ).rejects.toMatchObject({ kind: 'validation' });
    }
    expect(await h.services.webhooks.list(owner)).toEqual([]);
  });
});
