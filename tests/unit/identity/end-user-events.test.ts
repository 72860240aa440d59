/**
 * End users and events: they replay, publish and receive by webhook only events about themselves
 * (access-policy eventFilterFor / eventFilterForOwner), never another user's, and never a
 * state_change whose key happens to equal their user id.
 */
import type { HttpHandler } from '@azure/functions';
import { eventsList } from '../../../functions/events-list';
import { eventsPublish } from '../../../functions/events-publish';
import { operationsCreate } from '../../../functions/operations-create';
import { operationsGet } from '../../../functions/operations-get';
import { setServices } from '../../../shared/container';
import type { BridgeCloudEvent } from '../../../shared/domain/cloud-event';
import { eventFilterFor } from '../../../shared/services/access-policy';
import { endUserPrincipal, keyPrincipal } from '../../../shared/services/principal';
import { makeEventHarness, type EventHarness } from '../../helpers/event-services';
import { invokeHandler, type HandlerRequest } from '../../helpers/invoke-handler';
import { issuerSettings, startOidcIssuer, type OidcIssuer } from '../../helpers/oidc-issuer';
import { TEST_ADMIN_KEY } from '../../helpers/test-services';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

async function call(handler: HttpHandler, request: HandlerRequest) {
  const res = await invokeHandler(handler, request);
  return { status: res.status, json: (res.raw ? JSON.parse(res.raw) : undefined) as AnyJson };
}

describe('end users and events', () => {
  let issuer: OidcIssuer;
  let h: EventHarness;
  let ann: Record<string, string>;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    h = makeEventHarness({ ...issuerSettings(issuer), BRIDGE_EVENTS_FAST_PATH: 'false' });
    setServices(h.services);
    ann = { authorization: `Bearer ${await issuer.sign({ sub: 'ann' })}` };
    const admin = keyPrincipal('bootstrap', 'admin', 'admin');
    await h.services.sync.sync('ann', { data: { city: 'Oslo' } }, 'admin');
    await h.services.sync.sync('bob', { data: { city: 'Rome' } }, 'admin');
    await h.services.state.put('ann', { value: 'a state key named like a user' });
    await h.services.tokens.grant({ userId: 'ann', amount: 10, principal: admin });
    await h.services.tokens.grant({ userId: 'bob', amount: 10, principal: admin });
    await h.services.publisher.publish({ type: 'portal_note', data: { to: 'bob' }, subject: 'bob' }, admin);
  });
  afterAll(async () => {
    setServices(undefined);
    await h.cleanup();
    await issuer.close();
  });

  const replay = async (headers: Record<string, string>, query: Record<string, string> = {}) =>
    call(eventsList, { method: 'GET', headers, query });

  it('replay shows an end user only events about them; a key sees everything', async () => {
    const mine = await replay(ann);
    expect(mine.status).toBe(200);
    expect((mine.json.events as BridgeCloudEvent[]).map((e) => [e.type, e.subject])).toEqual([
      ['user_update', 'ann'],
      ['tokens_granted', 'ann'],
    ]);
    const all = await replay({ 'x-api-key': TEST_ADMIN_KEY });
    expect((all.json.events as BridgeCloudEvent[]).map((e) => e.type).sort()).toEqual(
      [
        'portal_note',
        'state_change',
        'tokens_granted',
        'tokens_granted',
        'user_update',
        'user_update',
      ].sort(),
    );
    expect((await replay(ann, { subject: 'bob' })).status).toBe(403);
    expect((await replay(ann, { subject: 'ann', types: 'state_change' })).json.events).toEqual([]);
  });

  it('an end user publishes about themselves (subject filled in), never about someone else', async () => {
    const own = await call(eventsPublish, {
      method: 'POST',
      headers: ann,
      body: { type: 'portal_note', data: { hello: 1 }, id: 'n1' },
    });
    expect(own.status).toBe(202);
    expect(own.json.id).toBe('pub:user:ann:n1');
    const events = (await replay(ann)).json.events as BridgeCloudEvent[];
    expect(events.at(-1)).toMatchObject({
      type: 'portal_note',
      subject: 'ann',
      source: '/bridge/publishers/user:ann',
    });
    const foreign = await call(eventsPublish, {
      method: 'POST',
      headers: ann,
      body: { type: 'portal_note', data: {}, subject: 'bob' },
    });
    expect(foreign.status).toBe(403);
  });

  it('a webhook owned by an end user receives only events about them', async () => {
    const owner = endUserPrincipal('ann');
    const theirs = await h.services.webhooks.subscribe(
      ['user_update', 'state_change'],
      'http://127.0.0.1:9/ann',
      owner,
    );
    const portal = await h.services.webhooks.subscribe(
      ['user_update'],
      'http://127.0.0.1:9/portal',
      keyPrincipal('k1', 'user', 'portal'),
    );
    const all = (await replay({ 'x-api-key': TEST_ADMIN_KEY })).json.events as BridgeCloudEvent[];
    h.transport.posts.length = 0;
    for (const event of all) await h.services.webhooks.fanOut(event);
    const to = (url: string) =>
      h.transport.posts
        .filter((p) => p.url === url)
        .map((p) => (JSON.parse(p.body) as BridgeCloudEvent).subject);
    expect(to(theirs.url)).toEqual(['ann']);
    expect(to(portal.url).sort()).toEqual(['ann', 'bob']);
  });

  it("recover re-sends to an end user's webhook only the events about them, to a key's every match", async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const owner = endUserPrincipal('ann');
    const theirs = await h.services.webhooks.subscribe(
      ['user_update', 'state_change'],
      'http://127.0.0.1:9/ann-r',
      owner,
    );
    const key = keyPrincipal('k1', 'user', 'portal');
    const portal = await h.services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/portal-r', key);
    // ann's user_update only (the state key named "ann" is not about her); the portal's: ann's and bob's.
    expect(await h.services.webhooks.recoverFor(owner, theirs.id, since)).toBe(1);
    expect(await h.services.webhooks.recoverFor(key, portal.id, since)).toBe(2);
    await expect(h.services.webhooks.recoverFor(endUserPrincipal('bob'), theirs.id, since)).rejects.toThrow(
      /No subscription/,
    );
  });

  it('operations: an end user queues only about themselves and sees only their own', async () => {
    const mine = await call(operationsCreate, {
      method: 'POST',
      headers: ann,
      body: { command: 'publish_event', type: 'portal_note', data: {} },
    });
    expect(mine.status).toBe(202);
    expect(mine.json.owner).toBe('user:ann');
    const operation = await h.services.commands.get(mine.json.id);
    expect(operation?.owner).toBe('user:ann');
    expect(
      (await call(operationsGet, { method: 'GET', headers: ann, params: { id: mine.json.id } })).status,
    ).toBe(200);
    const bob = { authorization: `Bearer ${await issuer.sign({ sub: 'bob' })}` };
    expect(
      (await call(operationsGet, { method: 'GET', headers: bob, params: { id: mine.json.id } })).status,
    ).toBe(404);
    for (const body of [
      { command: 'sync_user_data', userId: 'bob', data: { a: 1 } },
      { command: 'publish_event', type: 'x', data: {}, subject: 'bob' },
      {
        command: 'comprehensive_analysis',
        userId: 'bob',
        targetRole: 'Data Engineer',
        skills: [],
        experienceYears: 1,
        education: 'BSc',
      },
      { command: 'delete_user', userId: 'ann' },
    ]) {
      expect([
        body.command,
        (await call(operationsCreate, { method: 'POST', headers: ann, body })).status,
      ]).toEqual([body.command, 403]);
    }
  });

  it('eventFilterFor: keys see every event, an end user only user-scoped sources with their subject', () => {
    const event = (source: string, subject?: string) => ({
      type: 't',
      source,
      ...(subject ? { subject } : {}),
    });
    const key = eventFilterFor(keyPrincipal('k', 'user', 'k'));
    expect(key.subject).toBeUndefined();
    expect(key.matches(event('/bridge/state/x', 'x'))).toBe(true);
    const filter = eventFilterFor(endUserPrincipal('ann'));
    expect(filter.subject).toBe('ann');
    expect(filter.matches(event('/bridge/users/ann', 'ann'))).toBe(true);
    expect(filter.matches(event('/bridge/tokens/ann', 'ann'))).toBe(true);
    expect(filter.matches(event('/bridge/publishers/k1', 'ann'))).toBe(true);
    expect(filter.matches(event('/bridge/state/ann', 'ann'))).toBe(false);
    expect(filter.matches(event('/bridge/users/bob', 'bob'))).toBe(false);
    expect(filter.matches(event('/bridge/users/ann'))).toBe(false);
  });
});
