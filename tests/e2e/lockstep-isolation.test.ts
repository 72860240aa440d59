/**
 * e2e, issue 9 item 1: poison inputs never strand other users' changes. Poison writes of every kind
 * (an event too large for the bus, a 125-character user id and a 129-character state key whose event
 * ids exceed the bus's 128 characters) are interleaved with 100 normal writes from other users, on a
 * host with the outbox as the topic (the local default) and on one publishing to the embedded bus as
 * in Azure. Every normal event reaches a webhook within 1 s of its acknowledgement, the oversized
 * writes are refused with 413 naming the limit and change nothing, the long-id writes are delivered
 * too, nothing is quarantined, and lockstep status stays healthy.
 */
import { cleanupLocalHosts, startLocalHostProcess } from '../helpers/local-host-process';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { client } from './client';

const NORMAL_WRITES = 100;
const WRITERS = 4;
const DELIVERY_BOUND_MS = 1_000;

let receiver: WebhookReceiver | undefined;
afterAll(async () => {
  await receiver?.close();
  await cleanupLocalHosts();
});

describe.each([
  ['outbox', {}],
  ['bus', { BRIDGE_EVENT_TOPIC: 'bus' }],
])('with the event topic on the %s', (_topic, env) => {
  test('poison inputs interleaved with 100 normal writes: every normal event arrives within 1 s', async () => {
    receiver = await startWebhookReceiver();
    const host = await startLocalHostProcess({ env });
    const admin = client(host.baseUrl, host.adminKey);
    const sub = await admin.post('/subscriptions', {
      eventTypes: ['user_update', 'state_change'],
      url: receiver.url,
    });
    expect(sub.status).toBe(201);
    receiver.setSecret(sub.body.secret as string);
    const tag = Math.random().toString(36).slice(2, 8);
    const longUser = `L${tag}${'u'.repeat(125 - 1 - tag.length)}`; // 125 characters
    const longKey = `K${tag}${'k'.repeat(129 - 1 - tag.length)}`; // 129 characters

    const poison: (() => Promise<{ status: number; what: string; text: string }>)[] = [
      async () => {
        const r = await admin.post(`/users/big-${tag}/sync`, { data: { bio: 'x'.repeat(300 * 1024) } });
        return { status: r.status, what: '300 KB field', text: r.text };
      },
      async () => {
        const r = await admin.put(`/state/big-${tag}`, { value: 'y'.repeat(300 * 1024) });
        return { status: r.status, what: '300 KB state value', text: r.text };
      },
      async () => {
        const r = await admin.post(`/users/${longUser}/sync`, { data: { n: 1 } });
        return { status: r.status, what: '125-character user id', text: r.text };
      },
      async () => {
        const r = await admin.put(`/state/${longKey}`, { value: { n: 1 } });
        return { status: r.status, what: '129-character state key', text: r.text };
      },
    ];
    const poisonResults: { status: number; what: string; text: string }[] = [];
    const acks = new Map<string, number>();
    let next = 0;
    const writer = async () => {
      while (next < NORMAL_WRITES) {
        const n = next++;
        if (n % 20 === 5) {
          const p = poison[((n / 20) % poison.length) | 0] as (typeof poison)[number];
          poisonResults.push(await p());
        }
        const userId = `iso-${tag}-${n}`;
        const r = await admin.post(`/users/${userId}/sync`, { data: { n } });
        expect(r.status).toBe(200);
        acks.set(`user:${userId}:1`, performance.now());
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, writer));
    for (const p of poison.slice(poisonResults.length)) poisonResults.push(await p());

    // The oversized writes: 413 naming the limit, and nothing changed.
    const refused = poisonResults.filter((p) => p.what.startsWith('300 KB'));
    expect(refused.map((p) => p.status)).toEqual(refused.map(() => 413));
    for (const p of refused) expect(p.text).toContain('BRIDGE_MAX_EVENT_BYTES');
    expect((await admin.get(`/users/big-${tag}`)).status).toBe(404);
    expect((await admin.get(`/state/big-${tag}`)).status).toBe(404);
    // The long-id writes are accepted, and their events are delivered like any other.
    const accepted = poisonResults.filter((p) => !p.what.startsWith('300 KB'));
    expect(accepted.map((p) => [p.what, p.status])).toEqual(accepted.map((p) => [p.what, 200]));

    await receiver.waitUntil(
      () => {
        const ids = new Set(receiver?.accepted().map((d) => d.id));
        return [...acks.keys()].every((id) => ids.has(id)) && ids.has(`user:${longUser}:1`);
      },
      10_000,
      'every normal event and the long-id ones',
    );
    const firstArrival = new Map<string, number>();
    for (const d of receiver.accepted()) if (!firstArrival.has(d.id)) firstArrival.set(d.id, d.receivedAt);
    const late = [...acks].filter(
      ([id, ackAt]) => (firstArrival.get(id) ?? Infinity) - ackAt > DELIVERY_BOUND_MS,
    );
    expect(late).toEqual([]);
    expect(receiver.accepted().some((d) => d.id.startsWith(`state:${longKey}:`))).toBe(true);
    expect(receiver.accepted().every((d) => d.verified === true)).toBe(true);

    const status = await admin.get('/lockstep/status');
    expect(status.status).toBe(200);
    expect(status.body.quarantine.count).toBe(0);
    expect(['EXCELLENT', 'GOOD']).toContain(status.body.health);
    expect(await host.stop()).toBe(0);
    await receiver.close();
    receiver = undefined;
  }, 120_000);
});
