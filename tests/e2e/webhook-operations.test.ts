/**
 * e2e (issue 12 item 2), over the local host: a subscription's attempt log after failures and
 * successes, recover-since re-sending exactly the matching events, and auto-disable after
 * continuous failure (with its subscription_disabled event) followed by re-enabling, and batched
 * delivery (maxEventsPerBatch).
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { client, expectProblem, type AnyJson, type Client } from './client';

const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 50;
/** Small, so a failing subscription is disabled within the test (the default is 5 days). */
const DISABLE_AFTER_SECONDS = 2;

let host: LocalHostProcess;
let admin: Client;
let portal: Client;
/** Another user-portal key: not the owner of `portal`'s subscriptions. */
let stranger: Client;
const receivers: WebhookReceiver[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  host = await startLocalHostProcess({
    env: {
      BRIDGE_WEBHOOK_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS),
      BRIDGE_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      BRIDGE_WEBHOOK_DISABLE_AFTER_SECONDS: String(DISABLE_AFTER_SECONDS),
    },
  });
  admin = client(host.baseUrl, host.adminKey);
  const key = await admin.post('/keys', { role: 'user', name: 'webhook ops e2e portal' });
  expect(key.status).toBe(201);
  portal = client(host.baseUrl, key.body.key);
  const other = await admin.post('/keys', { role: 'user', name: 'webhook ops e2e stranger' });
  expect(other.status).toBe(201);
  stranger = client(host.baseUrl, other.body.key);
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await cleanupLocalHosts();
});

async function subscribedReceiver(
  eventTypes: string[],
): Promise<{ receiver: WebhookReceiver; sub: AnyJson }> {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const res = await portal.post('/subscriptions', { eventTypes, url: receiver.url });
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('active');
  receiver.setSecret(res.body.secret);
  return { receiver, sub: res.body };
}

/** Syncs a user profile; resolves with the id of its user_update event. */
async function syncUser(userId: string, data: AnyJson): Promise<string> {
  const res = await admin.post(`/users/${userId}/sync`, { data });
  expect(res.status).toBe(200);
  return `user:${userId}:${res.body.version}`;
}

async function waitForValue<T>(
  read: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    const value = await read();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

test('the attempt log records failures and successes, newest first, for the owner only', async () => {
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  receiver.failNext(2);
  const id = await syncUser('attempts-user', { step: 1 });
  await receiver.waitFor((d) => d.id === id, 10_000);

  const attempts = await waitForValue(
    async () => {
      const res = await portal.get(`/subscriptions/${sub.id}/attempts`);
      expect(res.status).toBe(200);
      const list = res.body.attempts as AnyJson[];
      return list.length >= 3 ? list : undefined;
    },
    5000,
    'three recorded attempts',
  );
  expect(attempts).toHaveLength(3);
  expect(attempts.map((a) => [a.eventId, a.attempt, a.status])).toEqual([
    [id, 3, 204],
    [id, 2, 500],
    [id, 1, 500],
  ]);
  expect(attempts[0]).not.toHaveProperty('error');
  expect(attempts[1].error).toBe('HTTP 500');
  for (const a of attempts) {
    expect(Number.isNaN(Date.parse(a.at))).toBe(false);
    expect(a.durationMs).toBeGreaterThanOrEqual(0);
  }
  expect(Date.parse(attempts[0].at)).toBeGreaterThanOrEqual(Date.parse(attempts[2].at));

  const one = await portal.get(`/subscriptions/${sub.id}/attempts?limit=1`);
  expect(one.body.attempts).toEqual([attempts[0]]);
  expect((await portal.get(`/subscriptions/${sub.id}/attempts?limit=0`)).status).toBe(400);
  // Someone else's subscription looks absent; an admin sees it.
  expect((await stranger.get(`/subscriptions/${sub.id}/attempts`)).status).toBe(404);
  expect((await admin.get(`/subscriptions/${sub.id}/attempts`)).body.attempts).toHaveLength(3);
  expect((await portal.delete(`/subscriptions/${sub.id}`)).status).toBe(204);
});

test('recover re-sends exactly the matching events committed since the given time', async () => {
  const before = await syncUser('recover-before', { step: 1 }); // before `since`: not re-sent
  await sleep(50);
  const since = new Date().toISOString();
  await sleep(50);
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  const matching = [await syncUser('recover-a', { step: 1 }), await syncUser('recover-b', { step: 1 })];
  // Not matching: another type.
  expect((await portal.post('/events', { type: 'portal_note', data: { n: 1 } })).status).toBe(202);
  await receiver.waitUntil((all) => matching.every((id) => all.some((d) => d.id === id)), 10_000);
  const firstRound = receiver.accepted().length;

  const res = await portal.post(`/subscriptions/${sub.id}/recover`, { since });
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ subscriptionId: sub.id, requeued: 2 });
  await receiver.waitUntil((all) => all.length >= firstRound + 2, 10_000, 're-sent events');
  await sleep(300); // anything more would arrive now
  const resent = receiver.accepted().slice(firstRound);
  expect(resent.map((d) => d.id).sort()).toEqual([...matching].sort());
  expect(resent.every((d) => d.verified)).toBe(true);
  expect(receiver.accepted().some((d) => d.id === before)).toBe(false);

  // Bounds: a time outside the event retention, or not a time, changes nothing.
  const old = new Date(Date.now() - 30 * 86_400_000).toISOString();
  expect((await portal.post(`/subscriptions/${sub.id}/recover`, { since: old })).status).toBe(400);
  expect((await portal.post(`/subscriptions/${sub.id}/recover`, { since: 'yesterday' })).status).toBe(400);
  expect((await stranger.post(`/subscriptions/${sub.id}/recover`, { since })).status).toBe(404);
  expect((await portal.delete(`/subscriptions/${sub.id}`)).status).toBe(204);
});

test('a subscription failing continuously is disabled with a subscription_disabled event, and enable brings it back', async () => {
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  receiver.failAlways(true);
  const first = await syncUser('disable-a', { step: 1 });
  await waitForValue(
    async () => (receiver.deliveries.some((d) => d.id === first) ? true : undefined),
    5000,
    'a failed attempt',
  );
  await sleep(DISABLE_AFTER_SECONDS * 1000 + 300);
  // A failure after the disable-after time disables it.
  await syncUser('disable-b', { step: 1 });
  const disabled = await waitForValue(
    async () => {
      const list = await portal.get('/subscriptions');
      const found = (list.body.subscriptions as AnyJson[]).find((s) => s.id === sub.id);
      return found?.status === 'disabled' ? found : undefined;
    },
    10_000,
    'the subscription to be disabled',
  );
  expect(disabled.disabledAt).toEqual(expect.any(String));
  expect(disabled.disabledReason).toContain('HTTP 500');

  const events = await waitForValue(
    async () => {
      const res = await portal.get('/events?types=subscription_disabled');
      expect(res.status).toBe(200);
      const list = (res.body.events as AnyJson[]).filter((e) => e.data.subscriptionId === sub.id);
      return list.length > 0 ? list : undefined;
    },
    5000,
    'the subscription_disabled event',
  );
  expect(events).toHaveLength(1);
  expect(events[0]).toEqual(
    expect.objectContaining({ type: 'subscription_disabled', source: `/bridge/webhooks/${sub.id}` }),
  );
  // A portal may not publish the reserved type.
  expect((await portal.post('/events', { type: 'subscription_disabled', data: {} })).status).toBe(400);

  // Disabled: nothing is delivered, not even to a receiver that recovered.
  receiver.failAlways(false);
  const meanwhile = await syncUser('disable-c', { step: 1 });
  await sleep(500);
  expect(receiver.deliveries.some((d) => d.id === meanwhile)).toBe(false);
  expect(
    (await portal.post(`/subscriptions/${sub.id}/recover`, { since: new Date().toISOString() })).status,
  ).toBe(409);

  expect((await stranger.post(`/subscriptions/${sub.id}/enable`)).status).toBe(404);
  const enabled = await portal.post(`/subscriptions/${sub.id}/enable`);
  expect(enabled.status).toBe(200);
  expect(enabled.body.status).toBe('active');
  expect(enabled.body).not.toHaveProperty('disabledAt');
  expect(enabled.body).not.toHaveProperty('failingSince');
  const after = await syncUser('disable-d', { step: 1 });
  await receiver.waitFor((d) => d.id === after, 10_000);
  expect((await portal.delete(`/subscriptions/${sub.id}`)).status).toBe(204);
});

test('maxEventsPerBatch: concurrent changes arrive as verified CloudEvent batches, each event once', async () => {
  for (const bad of [0, 101, 2.5, '10']) {
    const refused = await portal.post('/subscriptions', {
      eventTypes: ['user_update'],
      url: 'http://127.0.0.1:9/never',
      maxEventsPerBatch: bad,
    });
    expect(expectProblem(refused, 400).errors).toEqual([
      expect.objectContaining({ path: '/maxEventsPerBatch' }),
    ]);
  }
  expect((await portal.get('/subscriptions')).body.subscriptions).toEqual([]);

  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const res = await portal.post('/subscriptions', {
    eventTypes: ['user_update'],
    url: receiver.url,
    maxEventsPerBatch: 10,
  });
  expect(res.status).toBe(201);
  expect(res.body.maxEventsPerBatch).toBe(10);
  receiver.setSecret(res.body.secret);
  // A receiver slower than the writes: while 8 POSTs wait for their answers, the next events gather.
  receiver.delayResponses(300);

  const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => syncUser(`batch-${i}`, { i })));
  await receiver.waitUntil(
    (all) => all.reduce((n, d) => n + d.eventIds.length, 0) >= ids.length,
    10_000,
    'every event',
  );
  const accepted = receiver.accepted();
  for (const d of accepted) {
    expect(d.verified).toBe(true);
    expect(d.headers['content-type']).toBe('application/cloudevents-batch+json');
    expect(d.eventIds.length).toBeGreaterThanOrEqual(1);
    expect(d.eventIds.length).toBeLessThanOrEqual(10);
    // The cloudevents SDK reads the body as a batch of the same events.
    expect(d.events?.map((e) => e.id)).toEqual(d.eventIds);
  }
  const received = accepted.flatMap((d) => d.eventIds);
  expect([...received].sort()).toEqual([...ids].sort());
  // Each user's events are in commit order (here one each); the events arrived in fewer POSTs.
  expect(accepted.length).toBeLessThan(ids.length);
  receiver.delayResponses(0);

  const attempts = await waitForValue(
    async () => {
      const list = (await portal.get(`/subscriptions/${res.body.id}/attempts`)).body.attempts as AnyJson[];
      return list.length >= ids.length ? list : undefined;
    },
    5000,
    'an attempt per event',
  );
  expect(attempts.every((a) => a.status === 204 && a.batchSize >= 1 && a.batchSize <= 10)).toBe(true);
  expect((await portal.delete(`/subscriptions/${res.body.id}`)).status).toBe(204);
});
