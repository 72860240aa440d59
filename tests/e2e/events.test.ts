/**
 * e2e (issue 3, "Done means"), as a new user would do it: a webhook receiver subscribes to events,
 * an admin change reaches it as a signed CloudEvent within a second, replay shows the same event,
 * portal events reach only their subscribers, the lockstep monitor reports, failing receivers get
 * retries and then dead letters that can be redelivered, and async operations propagate too.
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { startWebhookReceiver, type Delivery, type WebhookReceiver } from '../helpers/webhook-receiver';
import { client, type AnyJson, type Client } from './client';

const MAX_ATTEMPTS = 3;
const BACKOFF_BASE_MS = 50;

let host: LocalHostProcess;
let admin: Client;
/** A user-portal key, issued the way a portal gets one. */
let portal: Client;
const receivers: WebhookReceiver[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  host = await startLocalHostProcess({
    env: {
      BRIDGE_SWEEP_SCHEDULE: '*/1 * * * * *',
      BRIDGE_SWEEP_GRACE_SECONDS: '1',
      BRIDGE_WEBHOOK_BACKOFF_BASE_MS: String(BACKOFF_BASE_MS),
      BRIDGE_WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    },
  });
  admin = client(host.baseUrl, host.adminKey);
  const key = await admin.post('/keys', { role: 'user', name: 'events e2e user portal' });
  expect(key.status).toBe(201);
  portal = client(host.baseUrl, key.body.key);
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await cleanupLocalHosts();
});

/** A fresh receiver subscribed (with the user-portal key) to `eventTypes`. */
async function subscribedReceiver(
  eventTypes: string[],
): Promise<{ receiver: WebhookReceiver; sub: AnyJson }> {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const res = await portal.post('/subscriptions', { eventTypes, url: receiver.url });
  expect(res.status).toBe(201);
  expect(res.body).toEqual(
    expect.objectContaining({ id: expect.any(String), eventTypes, url: receiver.url }),
  );
  expect(res.body.secret).toMatch(/^whsec_/);
  receiver.setSecret(res.body.secret);
  return { receiver, sub: res.body };
}

async function unsubscribe(id: string): Promise<void> {
  expect((await portal.delete(`/subscriptions/${id}`)).status).toBe(204);
}

/** Every delivery of the given id, failed ones included. */
const attemptsOf = (receiver: WebhookReceiver, id: string) => receiver.deliveries.filter((d) => d.id === id);

function expectSignedCloudEvent(delivery: Delivery, id: string, type: string): void {
  expect(delivery.verifyError).toBeUndefined();
  expect(delivery.verified).toBe(true);
  expect(delivery.parseError).toBeUndefined();
  expect(delivery.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
  expect(delivery.headers['webhook-id']).toBe(id);
  expect(delivery.event).toEqual(expect.objectContaining({ specversion: '1.0', id, type }));
}

test('an admin change reaches a user_update subscriber as a verified, signed CloudEvent within 1 s; replay shows it', async () => {
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  try {
    const res = await admin.post('/users/ann/sync', { data: { city: 'Oslo', role: 'editor' } });
    const ackedAt = performance.now();
    expect(res.status).toBe(200);
    const id = `user:ann:${res.body.version}`;

    const delivery = await receiver.waitFor((d) => d.id === id, 5000);
    const latencyMs = delivery.receivedAt - ackedAt;
    console.log(`sync acknowledged → webhook received: ${latencyMs.toFixed(1)} ms`);
    expect(latencyMs).toBeLessThan(1000);
    expectSignedCloudEvent(delivery, id, 'user_update');
    expect(delivery.event).toEqual(
      expect.objectContaining({
        source: '/bridge/users/ann',
        subject: 'ann',
        datacontenttype: 'application/json',
        data: expect.objectContaining({
          userId: 'ann',
          version: res.body.version,
          writer: 'admin',
          changes: { city: 'Oslo', role: 'editor' },
        }),
      }),
    );

    // Replay from the start shows the same event (same id, same content as delivered).
    const replay = await portal.get('/events?after=0&types=user_update&subject=ann');
    expect(replay.status).toBe(200);
    const replayed = (replay.body.events as AnyJson[]).find((e) => e.id === id);
    expect(replayed).toEqual(JSON.parse(delivery.body));
  } finally {
    await unsubscribe(sub.id);
  }
});

test('publish_event of a portal type reaches a subscriber of that type and not one of another type', async () => {
  const notes = await subscribedReceiver(['portal_note']);
  const others = await subscribedReceiver(['portal_other', 'user_delete']);
  try {
    const res = await portal.post('/events', {
      type: 'portal_note',
      data: { text: 'hi' },
      subject: 'ann',
      id: 'note-1',
    });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    expect(typeof id).toBe('string');

    const delivery = await notes.receiver.waitFor((d) => d.id === id, 5000);
    expectSignedCloudEvent(delivery, id, 'portal_note');
    expect(delivery.event?.data).toEqual({ text: 'hi' });
    expect(delivery.event?.subject).toBe('ann');

    // The same publisher id again is the same event (not a second one).
    const again = await portal.post('/events', {
      type: 'portal_note',
      data: { text: 'hi' },
      subject: 'ann',
      id: 'note-1',
    });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(id);

    await sleep(300); // long enough for a misrouted delivery to have arrived too
    expect(others.receiver.deliveries).toEqual([]);
  } finally {
    await unsubscribe(notes.sub.id);
    await unsubscribe(others.sub.id);
  }
});

test('the lockstep probe reports its latencies, its event reaches subscribers, and the status is healthy', async () => {
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  try {
    const probe = await admin.post('/lockstep/probe');
    expect(probe.status).toBe(200);
    expect(probe.body).toEqual(
      expect.objectContaining({
        ok: true,
        version: expect.any(Number),
        syncLatencyMs: expect.any(Number),
        propagationLatencyMs: expect.any(Number),
      }),
    );
    await receiver.waitFor((d) => d.id === `user:lockstep-probe:${probe.body.version}`, 5000);

    const status = await portal.get('/lockstep/status');
    expect(status.status).toBe(200);
    expect(status.body).toEqual(
      expect.objectContaining({
        changeFeed: expect.objectContaining({ pendingEvents: expect.any(Number) }),
        propagationMs: expect.objectContaining({ p95: expect.any(Number) }),
        consistency: expect.objectContaining({ inconsistent: [] }),
      }),
    );
    expect(['EXCELLENT', 'GOOD']).toContain(status.body.health);
  } finally {
    await unsubscribe(sub.id);
  }
});

test('a receiver failing the first 2 deliveries still gets the event, retried with backoff', async () => {
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  try {
    receiver.failNext(2);
    const res = await admin.post('/users/retry-user/sync', { data: { step: 1 } });
    expect(res.status).toBe(200);
    const id = `user:retry-user:${res.body.version}`;

    const delivery = await receiver.waitFor((d) => d.id === id, 5000);
    expectSignedCloudEvent(delivery, id, 'user_update');
    const attempts = attemptsOf(receiver, id);
    expect(attempts.map((d) => d.status)).toEqual([500, 500, 204]);
    // Equal-jitter backoff: attempt n waits between base·2^(n-1)/2 and base·2^(n-1).
    const [a1, a2, a3] = attempts.map((d) => d.receivedAt) as [number, number, number];
    expect(a2 - a1).toBeGreaterThanOrEqual(BACKOFF_BASE_MS / 2 - 5);
    expect(a3 - a2).toBeGreaterThanOrEqual(BACKOFF_BASE_MS - 5);
    // Every attempt carries the same event, each signed afresh.
    expect(new Set(attempts.map((d) => d.body)).size).toBe(1);
    expect(attempts.every((d) => d.verified)).toBe(true);
  } finally {
    await unsubscribe(sub.id);
  }
});

test('a receiver that always fails ends in dead letters after the attempt limit, and redelivery works once it recovers', async () => {
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  try {
    receiver.failAlways(true);
    const res = await admin.post('/users/dead-user/sync', { data: { step: 1 } });
    expect(res.status).toBe(200);
    const id = `user:dead-user:${res.body.version}`;

    let letters: AnyJson[] = [];
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
      const list = await portal.get(`/subscriptions/${sub.id}/dead-letters`);
      expect(list.status).toBe(200);
      letters = list.body.deadLetters;
      if (letters.length > 0) break;
    }
    expect(letters).toEqual([
      expect.objectContaining({
        id: expect.any(String),
        attempts: MAX_ATTEMPTS,
        lastError: expect.stringContaining('500'),
        event: expect.objectContaining({ id, type: 'user_update' }),
      }),
    ]);
    expect(attemptsOf(receiver, id).map((d) => d.status)).toEqual(Array(MAX_ATTEMPTS).fill(500));

    receiver.failAlways(false);
    const redeliver = await portal.post(`/subscriptions/${sub.id}/dead-letters/redeliver`, {});
    expect(redeliver.status).toBe(202);
    expect(redeliver.body.requeued).toBe(1);
    const delivery = await receiver.waitFor((d) => d.id === id, 5000);
    expectSignedCloudEvent(delivery, id, 'user_update');
    expect((await portal.get(`/subscriptions/${sub.id}/dead-letters`)).body.deadLetters).toEqual([]);
  } finally {
    await unsubscribe(sub.id);
  }
});

test('an async sync_user_data operation succeeds and its change is delivered too', async () => {
  const { receiver, sub } = await subscribedReceiver(['user_update']);
  try {
    const queued = await portal.post('/operations', {
      command: 'sync_user_data',
      userId: 'async-user',
      data: { city: 'Bergen' },
    });
    expect(queued.status).toBe(202);
    expect(queued.body).toEqual(expect.objectContaining({ id: expect.any(String), status: 'queued' }));

    let operation: AnyJson;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
      operation = (await portal.get(`/operations/${queued.body.id}`)).body;
      if (operation.status !== 'queued') break;
    }
    expect(operation).toEqual(expect.objectContaining({ id: queued.body.id, status: 'succeeded' }));
    const version = operation.result.version as number;
    expect(version).toBeGreaterThanOrEqual(1);

    const id = `user:async-user:${version}`;
    const delivery = await receiver.waitFor((d) => d.id === id, 5000);
    expectSignedCloudEvent(delivery, id, 'user_update');
    expect(delivery.event?.data).toEqual(
      expect.objectContaining({ userId: 'async-user', version, writer: 'user', changes: { city: 'Bergen' } }),
    );
  } finally {
    await unsubscribe(sub.id);
  }
});
