/**
 * Subscriptions, their dead letters and redeliveries belong to the key that created them: role ×
 * route × owner over the subscription routes (admin sees and manages all; others only their own,
 * 404 for anyone else's, as if it did not exist).
 */
import { type HttpHandler } from '@azure/functions';
import { subscriptionsCreate } from '../../../functions/subscriptions-create';
import { subscriptionsDeadLettersList } from '../../../functions/subscriptions-dead-letters-list';
import { subscriptionsDeadLettersRedeliver } from '../../../functions/subscriptions-dead-letters-redeliver';
import { subscriptionsDelete } from '../../../functions/subscriptions-delete';
import { subscriptionsList } from '../../../functions/subscriptions-list';
import { setServices } from '../../../shared/container';
import { makeEventHarness, type EventHarness } from '../../helpers/event-services';
import { invokeHandler } from '../../helpers/invoke-handler';
import { TEST_ADMIN_KEY } from '../../helpers/test-services';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

async function call(
  handler: HttpHandler,
  key: string,
  init: { method?: string; params?: Record<string, string>; body?: object } = {},
) {
  const res = await invokeHandler(handler, { method: init.method ?? 'GET', key, ...init });
  return { status: res.status, json: (res.raw ? JSON.parse(res.raw) : undefined) as AnyJson };
}

describe('subscription ownership (role × route × owner)', () => {
  let h: EventHarness;
  const keys: Record<'admin' | 'userA' | 'userB' | 'service', string> = {
    admin: TEST_ADMIN_KEY,
    userA: '',
    userB: '',
    service: '',
  };
  const subs: Record<string, string> = {};

  beforeAll(async () => {
    // One attempt: a failed delivery is a dead letter at once.
    h = makeEventHarness({ BRIDGE_WEBHOOK_MAX_ATTEMPTS: '1' });
    setServices(h.services);
    keys.userA = (await h.services.apiKeys.issue('user', 'portal A')).key;
    keys.userB = (await h.services.apiKeys.issue('user', 'portal B')).key;
    keys.service = (await h.services.apiKeys.issue('service', 'matching')).key;
    for (const owner of Object.keys(keys) as (keyof typeof keys)[]) {
      const res = await call(subscriptionsCreate, keys[owner], {
        method: 'POST',
        body: { eventTypes: ['user_update'], url: `http://127.0.0.1:9/${owner}` },
      });
      expect(res.status).toBe(201);
      subs[owner] = res.json.id;
    }
    // Every subscription gets one dead letter.
    h.transport.answers = [500, 500, 500, 500];
    await h.services.sync.sync('ann', { data: { a: 1 } }, 'admin');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [event] = await h.drain('webhooks');
    expect(await h.services.webhooks.fanOut(event!)).toEqual({ delivered: 0, scheduled: 4 });
  });
  afterAll(async () => {
    setServices(undefined);
    await h.cleanup();
  });

  it('a list shows the caller its own subscriptions; an admin sees all', async () => {
    const ids = async (key: string) =>
      ((await call(subscriptionsList, key)).json.subscriptions as { id: string }[]).map((s) => s.id).sort();
    expect(await ids(keys.admin)).toEqual(Object.values(subs).sort());
    expect(await ids(keys.userA)).toEqual([subs.userA]);
    expect(await ids(keys.userB)).toEqual([subs.userB]);
    expect(await ids(keys.service)).toEqual([subs.service]);
  });

  const matrix: [caller: keyof typeof keys, owner: string, allowed: boolean][] = [
    ['admin', 'userA', true],
    ['admin', 'service', true],
    ['userA', 'userA', true],
    ['userA', 'userB', false],
    ['userA', 'admin', false],
    ['userA', 'service', false],
    ['userB', 'userA', false],
    ['service', 'service', true],
    ['service', 'userA', false],
    ['service', 'admin', false],
  ];

  it.each(matrix)(
    'dead letters: %s on the subscription of %s → allowed %s',
    async (caller, owner, allowed) => {
      const res = await call(subscriptionsDeadLettersList, keys[caller], { params: { id: subs[owner]! } });
      expect(res.status).toBe(allowed ? 200 : 404);
      if (allowed) expect(res.json.deadLetters).toHaveLength(1);
      else expect(JSON.stringify(res.json)).not.toContain('127.0.0.1');
    },
  );

  it('redeliver and delete by a non-owner are 404 and change nothing; the owner (or an admin) may', async () => {
    const letters = () => h.services.webhooks.deadLetters(subs.userA!);
    const redeliverB = await call(subscriptionsDeadLettersRedeliver, keys.userB, {
      method: 'POST',
      params: { id: subs.userA! },
    });
    expect(redeliverB.status).toBe(404);
    expect(await letters()).toHaveLength(1);
    const redeliverService = await call(subscriptionsDeadLettersRedeliver, keys.service, {
      method: 'POST',
      params: { id: subs.userA! },
    });
    expect(redeliverService.status).toBe(404);
    expect(await letters()).toHaveLength(1);

    const redeliverA = await call(subscriptionsDeadLettersRedeliver, keys.userA, {
      method: 'POST',
      params: { id: subs.userA! },
    });
    expect(redeliverA).toMatchObject({ status: 202, json: { requeued: 1 } });
    const redeliverAdmin = await call(subscriptionsDeadLettersRedeliver, keys.admin, {
      method: 'POST',
      params: { id: subs.userB! },
    });
    expect(redeliverAdmin).toMatchObject({ status: 202, json: { requeued: 1 } });

    for (const [caller, owner] of [
      ['userB', 'userA'],
      ['service', 'userA'],
      ['userA', 'admin'],
    ] as const) {
      const res = await call(subscriptionsDelete, keys[caller], {
        method: 'DELETE',
        params: { id: subs[owner]! },
      });
      expect([caller, owner, res.status]).toEqual([caller, owner, 404]);
      expect(
        await h.services.webhooks.get(subs[owner]!, (await h.services.apiKeys.authenticate(TEST_ADMIN_KEY))!),
      ).toBeDefined();
    }
    expect(
      (await call(subscriptionsDelete, keys.userA, { method: 'DELETE', params: { id: subs.userA! } })).status,
    ).toBe(204);
    expect(
      (await call(subscriptionsDelete, keys.admin, { method: 'DELETE', params: { id: subs.service! } }))
        .status,
    ).toBe(204);
    expect(
      (await call(subscriptionsDelete, keys.admin, { method: 'DELETE', params: { id: subs.service! } }))
        .status,
    ).toBe(404);
  });

  it.each([
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['256 characters', 'x'.repeat(256)],
    ['a question mark', 'sub?x'],
  ])('an id with %s is a 400 naming the parameter, never a 500', async (_name, id) => {
    for (const [handler, method] of [
      [subscriptionsDelete, 'DELETE'],
      [subscriptionsDeadLettersList, 'GET'],
      [subscriptionsDeadLettersRedeliver, 'POST'],
    ] as const) {
      const res = await call(handler, keys.admin, { method, params: { id } });
      expect(res.status).toBe(400);
      expect(res.json.errors).toEqual([{ path: 'id', message: expect.any(String) }]);
    }
  });
});
