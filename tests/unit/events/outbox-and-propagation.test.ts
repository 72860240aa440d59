import { Webhook } from 'standardwebhooks';
import { eventsChangefeed } from '../../../functions/events-changefeed';
import { toCosmosItem } from '../../../shared/adapters/cosmos-item';
import { setServices } from '../../../shared/container';
import { InvocationContext } from '@azure/functions';
import { keyPrincipal } from '../../../shared/services/principal';
import { makeEventHarness, type EventHarness } from '../../helpers/event-services';
import { ManualClock } from '../../helpers/test-services';

const tester = keyPrincipal('tester', 'service', 'tester');

describe('outbox, propagation and replay', () => {
  let h: EventHarness;
  afterEach(async () => {
    setServices(undefined);
    await h.cleanup();
  });

  it('writes a user_update event in the same commit as the profile, with a deterministic id', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' });
    await h.services.sync.sync('ann', { data: { name: 'Ann' } }, 'admin');
    await h.services.sync.sync('ann', { data: { city: 'Oslo' } }, 'user');
    const page = await h.services.events.replay({ limit: 10 });
    expect(page.events.map((e) => [e.id, e.type, e.subject])).toEqual([
      ['user:ann:1', 'user_update', 'ann'],
      ['user:ann:2', 'user_update', 'ann'],
    ]);
    expect(page.events[1]?.data).toMatchObject({
      userId: 'ann',
      version: 2,
      writer: 'user',
      changes: { city: 'Oslo' },
    });
    expect(page.events[0]?.source).toBe('/bridge/users/ann');
  });

  it('makes no event when a sync changes nothing, and a user_delete tombstone event on delete', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' });
    await h.services.sync.sync('bo', { data: { a: 1 } }, 'admin');
    await h.services.sync.sync('bo', { data: { a: 1 } }, 'admin');
    expect(await h.services.sync.delete('bo', 'admin')).toBe(true);
    await h.services.sync.sync('bo', { data: { a: 2 } }, 'admin');
    const { events } = await h.services.events.replay({ limit: 10 });
    expect(events.map((e) => [e.id, e.type])).toEqual([
      ['user:bo:1', 'user_update'],
      ['user:bo:2', 'user_delete'],
      ['user:bo:3', 'user_update'],
    ]);
    expect((await h.services.sync.get('bo'))?.data).toEqual({ a: 2 });
  });

  it('state changes and deletes emit state_change events; a re-created key gets new event ids', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' });
    await h.services.state.put('flags', { value: 1 });
    await h.services.state.delete('flags');
    await h.services.state.put('flags', { value: 2 });
    const { events } = await h.services.events.replay({ limit: 10 });
    expect(events.map((e) => e.type)).toEqual(['state_change', 'state_change', 'state_change']);
    expect(events[1]?.data).toMatchObject({ key: 'flags', deleted: true });
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('replay pages with the cursor never skip or repeat, and filter by type and subject', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' });
    for (let i = 0; i < 25; i++) await h.services.sync.sync(`u${i % 5}`, { data: { n: i } }, 'admin');
    await h.services.publisher.publish(
      { type: 'portal_note', data: { x: 1 }, subject: 'u1' },
      keyPrincipal('k', 'user', 'k'),
    );
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await h.services.events.replay({ after, limit: 7 });
      if (page.events.length === 0) break;
      seen.push(...page.events.map((e) => e.id));
      after = page.next;
    }
    expect(seen).toHaveLength(26);
    expect(new Set(seen).size).toBe(26);
    const notes = await h.services.events.replay({ types: ['portal_note'], limit: 100 });
    expect(notes.events.map((e) => e.subject)).toEqual(['u1']);
    const forU1 = await h.services.events.replay({ subject: 'u1', limit: 100 });
    expect(forU1.events).toHaveLength(6);
    expect(
      forU1.events.every((e, i, all) => i === 0 || (e.sequence as string) > (all[i - 1]?.sequence as string)),
    ).toBe(true);
  });

  it('the fast path puts events on the bus with the Service Bus message shape, once', async () => {
    h = makeEventHarness();
    await h.services.sync.sync('cy', { data: { name: 'Cy' } }, 'admin');
    await h.services.propagator.drain(); // the fast path's publish, now rather than at the turn's end
    const [event, ...rest] = await h.drain('admin-portal');
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: 'user:cy:1',
      type: 'user_update',
      datacontenttype: 'application/json',
    });
    expect(event?.sequence).toMatch(/^\d{16}$/);
    const metrics = h.services.eventMetrics.snapshot();
    expect(metrics.published).toBe(1);
  });

  it('the change feed publishes what the fast path did not, and a repeat publishes nothing twice', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' });
    setServices(h.services);
    await h.services.sync.sync('dee', { data: { a: 1 } }, 'admin');
    await h.services.state.put('k', { value: 1 });
    const feed = await h.services.store.changeFeed(h.services.config.store.container, {});
    const context = new InvocationContext({ functionName: 'events-changefeed' });
    await eventsChangefeed(feed.items.map(toCosmosItem), context);
    await eventsChangefeed(feed.items.map(toCosmosItem), context);
    const delivered = await h.drain('admin-portal');
    expect(delivered).toHaveLength(2);
    expect(delivered.map((e) => e.id)).toEqual(
      expect.arrayContaining(['user:dee:1', expect.stringMatching(/^state:k:[a-z0-9]+:1$/)]),
    );
    const userPortal = await h.drain('user-portal');
    expect(userPortal).toHaveLength(2);
  });

  it('the change-feed intake skips items that are not bridge event documents', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false' });
    await h.services.sync.sync('fin', { data: { a: 1 } }, 'admin');
    const feed = await h.services.store.changeFeed(h.services.config.store.container, {});
    const items = feed.items.map(toCosmosItem);
    const profiles = items.filter((i) => i.type !== 'event');
    expect(profiles.length).toBeGreaterThan(0);
    const noise = [null, 42, 'text', { id: 'x' }, { id: 'x', pk: 'p', type: 'event' }, ...profiles];
    expect(await h.services.changeFeed.accept(noise, 1)).toEqual({
      events: 0,
      published: 0,
      alreadyPublished: 0,
      quarantined: 0,
    });
    expect(await h.services.changeFeed.accept([...noise, ...items], 1)).toEqual({
      events: 1,
      published: 1,
      alreadyPublished: 0,
      quarantined: 0,
    });
    expect((await h.drain('admin-portal')).map((e) => e.id)).toEqual(['user:fin:1']);
  });

  it('the user-portal subscription filters out portal-specific event types', async () => {
    h = makeEventHarness();
    await h.services.publisher.publish({ type: 'admin_audit', data: {} }, keyPrincipal('k', 'admin', 'k'));
    await h.services.sync.sync('eve', { data: { a: 1 } }, 'admin');
    await h.services.propagator.drain(); // the fast path's publish, now rather than at the turn's end
    expect((await h.drain('admin-portal')).map((e) => e.type).sort()).toEqual(['admin_audit', 'user_update']);
    expect((await h.drain('user-portal')).map((e) => e.type)).toEqual(['user_update']);
  });

  it('the sweeper republishes events nobody published, after the grace period', async () => {
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false', BRIDGE_SWEEP_GRACE_SECONDS: '1' });
    await h.services.sync.sync('fay', { data: { a: 1 } }, 'admin');
    const early = await h.services.events.scanPending(h.services.propagator, { olderThanMs: 1000 });
    expect(early.pending).toHaveLength(0);
    expect(early.oldestPendingAt).toEqual(expect.any(Number));
    const late = await h.services.events.scanPending(h.services.propagator, {
      olderThanMs: 0,
      advanceCheckpoint: true,
    });
    expect(late.pending.map((i) => i.body.event.id)).toEqual(['user:fay:1']);
    await h.services.propagator.propagate(late.pending);
    const after = await h.services.events.scanPending(h.services.propagator, { advanceCheckpoint: true });
    expect(after.pending).toHaveLength(0);
    expect(after.oldestPendingAt).toBeUndefined();
    expect((await h.drain('admin-portal')).map((e) => e.id)).toEqual(['user:fay:1']);
  });

  it('publish_event is idempotent on the caller id and refuses bridge-only types', async () => {
    h = makeEventHarness();
    const who = keyPrincipal('portal', 'user', 'portal');
    const a = await h.services.publisher.publish({ type: 'portal_note', data: { a: 1 }, id: 'n1' }, who);
    const b = await h.services.publisher.publish({ type: 'portal_note', data: { a: 1 }, id: 'n1' }, who);
    expect(b).toEqual({ ...a, duplicate: true });
    await expect(h.services.publisher.publish({ type: 'user_update', data: {} }, who)).rejects.toMatchObject({
      kind: 'validation',
    });
  });

  it('webhooks: signed per Standard Webhooks, retried with backoff, then dead-lettered and redelivered', async () => {
    const clock = new ManualClock(Date.now()); // signatures carry a timestamp the receiver checks
    h = makeEventHarness({ BRIDGE_WEBHOOK_MAX_ATTEMPTS: '2', BRIDGE_WEBHOOK_BACKOFF_BASE_MS: '10' }, clock);
    const sub = await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/hook', tester);
    expect(sub.secret).toMatch(/^whsec_/);
    h.transport.answers = [500, new Error('connection refused')];
    await h.services.sync.sync('gus', { data: { a: 1 } }, 'admin');
    await h.services.propagator.drain(); // the fast path's publish, now rather than at the turn's end
    const [event] = await h.drain('webhooks');
    expect(await h.services.webhooks.fanOut(event!)).toEqual({ delivered: 0, scheduled: 1 });
    const first = h.transport.posts[0]!;
    expect(new Webhook(sub.secret).verify(first.body, first.headers)).toMatchObject({ id: 'user:gus:1' });
    expect(first.headers['content-type']).toBe('application/cloudevents+json');

    expect(await h.bus.receive('webhook-retries', { maxMessages: 1 })).toEqual([]); // scheduled, not yet due
    clock.advance(30); // past the backoff (10–20 ms): the scheduled retry becomes visible
    const [retry] = await h.bus.receive('webhook-retries', { maxMessages: 1 });
    expect(retry?.message.body).toMatchObject({ subscriptionId: sub.id, attempt: 2 });
    expect(await h.services.webhooks.retry(retry!.message.body as never)).toBe('dead-lettered');
    const letters = await h.services.webhooks.deadLetters(sub.id);
    expect(letters).toEqual([
      expect.objectContaining({ attempts: 2, lastError: expect.stringContaining('connection refused') }),
    ]);

    expect(await h.services.webhooks.redeliver(sub.id)).toBe(1);
    expect(await h.services.webhooks.deadLetters(sub.id)).toEqual([]);
    const [again] = await h.bus.receive('webhook-retries', { maxMessages: 1 });
    expect(await h.services.webhooks.retry(again!.message.body as never)).toBe('delivered');
  });

  it('webhook subscriptions refuse non-http(s), metadata and link-local URLs, and private ones when not allowed', async () => {
    h = makeEventHarness({ BRIDGE_WEBHOOK_ALLOW_PRIVATE: 'false' });
    for (const url of [
      'ftp://example.com/x',
      'http://169.254.169.254/latest',
      'http://metadata.google.internal/',
      'http://10.0.0.5/hook',
      'http://localhost:8080/',
      'http://[::1]/',
    ]) {
      await expect(h.services.webhooks.subscribe(['user_update'], url, tester)).rejects.toMatchObject({
        kind: 'validation',
      });
    }
    await expect(
      h.services.webhooks.subscribe(['user_update'], 'https://portal.example.com/hooks', tester),
    ).resolves.toMatchObject({ url: 'https://portal.example.com/hooks' });
  });
});
