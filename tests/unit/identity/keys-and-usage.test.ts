/**
 * Scoped and expiring API keys (POST /api/keys {scopes, expiresAt}), and usage per key and per end
 * user (GET /api/keys/{id}/usage, GET /api/usage?userId=): counted in memory, flushed periodically,
 * added up across instances.
 */
import type { HttpHandler } from '@azure/functions';
import { keysCreate } from '../../../functions/keys-create';
import { keysList } from '../../../functions/keys-list';
import { keysUsageGet } from '../../../functions/keys-usage-get';
import { usageGet } from '../../../functions/usage-get';
import { usersGet } from '../../../functions/users-get';
import { usersSync } from '../../../functions/users-sync';
import { setServices, type Services } from '../../../shared/container';
import { UsageService } from '../../../shared/services/usage-service';
import { invokeHandler, type HandlerRequest } from '../../helpers/invoke-handler';
import { issuerSettings, startOidcIssuer, type OidcIssuer } from '../../helpers/oidc-issuer';
import { makeTestServices, ManualClock, TEST_ADMIN_KEY } from '../../helpers/test-services';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

async function call(handler: HttpHandler, request: HandlerRequest) {
  const res = await invokeHandler(handler, request);
  return {
    status: res.status,
    headers: res.headers,
    json: (res.raw ? JSON.parse(res.raw) : undefined) as AnyJson,
  };
}

const HOUR = 3_600_000;

describe('scoped and expiring keys; usage', () => {
  let issuer: OidcIssuer;
  let services: Services;
  let cleanup: () => Promise<void>;
  const clock = new ManualClock(Date.parse('2026-03-01T10:15:00.000Z'));

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    // A long flush interval: only reads (and shutdown) write the counts in these tests.
    ({ services, cleanup } = makeTestServices(
      issuerSettings(issuer, { BRIDGE_USAGE_FLUSH_SECONDS: '3600' }),
      clock,
    ));
    setServices(services);
    await services.sync.sync('ann', { data: { name: 'Ann' } }, 'admin');
  });
  afterAll(async () => {
    setServices(undefined);
    await cleanup();
    await issuer.close();
  });

  const admin = { key: TEST_ADMIN_KEY };
  const createKey = (body: object) => call(keysCreate, { method: 'POST', ...admin, body });

  it('a key narrowed to scopes may call only routes of those scopes (403 naming the scope it lacks)', async () => {
    const created = await createKey({ role: 'user', name: 'reader', scopes: ['users:read', 'users:read'] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ role: 'user', name: 'reader', scopes: ['users:read'] });
    expect(created.json.hash).toBeUndefined();
    const key = created.json.key as string;
    expect((await call(usersGet, { method: 'GET', key, params: { userId: 'ann' } })).status).toBe(200);
    const write = await call(usersSync, {
      method: 'POST',
      key,
      params: { userId: 'ann' },
      body: { data: { a: 1 } },
    });
    expect(write).toMatchObject({
      status: 403,
      json: { reason: 'scope', requiredScope: 'users:write', detail: expect.stringContaining('users:read') },
    });
    const listed = (await call(keysList, { method: 'GET', ...admin })).json.keys as AnyJson[];
    expect(listed.find((k) => k.id === created.json.id)).toEqual({
      id: created.json.id,
      role: 'user',
      name: 'reader',
      createdAt: expect.any(String),
      scopes: ['users:read'],
    });
  });

  it('an expiring key works until expiresAt, then is a 401 naming the expiry (cached or not)', async () => {
    const expiresAt = new Date(clock.now() + 60_000).toISOString();
    const created = await createKey({ role: 'service', name: 'temp', expiresAt });
    expect(created.json.expiresAt).toBe(expiresAt);
    const key = created.json.key as string;
    expect((await call(usersGet, { method: 'GET', key, params: { userId: 'ann' } })).status).toBe(200);
    clock.advance(61_000);
    const expired = await call(usersGet, { method: 'GET', key, params: { userId: 'ann' } });
    expect(expired).toMatchObject({
      status: 401,
      json: { reason: 'key-expired', detail: `The API key expired at ${expiresAt}.` },
    });
    expect(expired.headers.get('www-authenticate')).toMatch(/^ApiKey header="x-api-key"/);
  });

  it.each([
    ['an unknown scope', { scopes: ['everything'] }, '/scopes/0'],
    ['no scopes at all', { scopes: [] }, '/scopes'],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00Z' }, '/expiresAt'],
    ['an expiry without an offset', { expiresAt: '2030-01-01T00:00:00' }, '/expiresAt'],
    ['an expiry over 10 years ahead', { expiresAt: '2099-01-01T00:00:00Z' }, '/expiresAt'],
  ])('issuing a key with %s is a 400 naming the field', async (_name, extra, path) => {
    const res = await createKey({ role: 'user', name: 'bad', ...extra });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([expect.objectContaining({ path })]);
  });

  it('usage per key: requests per hour by route group and status class, and the last use', async () => {
    clock.current = Date.parse('2026-03-02T09:10:00.000Z');
    const created = await createKey({ role: 'user', name: 'counted' });
    const key = created.json.key as string;
    await call(usersGet, { method: 'GET', key, params: { userId: 'ann' } });
    await call(usersGet, { method: 'GET', key, params: { userId: 'ann' } });
    await call(usersGet, { method: 'GET', key, params: { userId: 'nobody' } });
    await call(usersSync, { method: 'POST', key, params: { userId: 'ann' }, body: { data: { b: 1 } } });
    clock.advance(HOUR);
    await call(usersSync, { method: 'POST', key, params: { userId: 'ann' }, body: { data: { b: 'x y' } } });

    // Nothing was written per request: the counts are still in memory.
    expect((await services.store.collection('state').query({ type: 'usage-hour' })).items).toHaveLength(0);

    const usage = await call(keysUsageGet, { method: 'GET', ...admin, params: { id: created.json.id } });
    expect(usage.status).toBe(200);
    expect(usage.json).toMatchObject({
      keyId: created.json.id,
      key: { id: created.json.id, role: 'user', name: 'counted' },
      principal: `key:${created.json.id}`,
      lastUsedAt: '2026-03-02T10:10:00.000Z',
      hours: [
        {
          hour: '2026-03-02T09:00:00.000Z',
          requests: 4,
          groups: { 'users:read': { '2xx': 2, '4xx': 1 }, 'users:write': { '2xx': 1 } },
        },
        { hour: '2026-03-02T10:00:00.000Z', requests: 1, groups: { 'users:write': { '2xx': 1 } } },
      ],
      totals: { requests: 5, groups: { 'users:read': { '2xx': 2, '4xx': 1 }, 'users:write': { '2xx': 2 } } },
    });
    // The admin's own reads are counted under the bootstrap key, not this one.
    const narrow = await call(keysUsageGet, {
      method: 'GET',
      ...admin,
      params: { id: created.json.id },
      query: { from: '2026-03-02T10:00:00Z', to: '2026-03-02T11:00:00Z' },
    });
    expect(narrow.json.totals.requests).toBe(1);
  });

  it('usage per end user, added up over instances (each flushes its own totals)', async () => {
    clock.current = Date.parse('2026-03-03T12:00:00.000Z');
    const token = { authorization: `Bearer ${await issuer.sign({ sub: 'ann' })}` };
    await call(usersGet, { method: 'GET', headers: token, params: { userId: 'ann' } });
    await call(usersGet, { method: 'GET', headers: token, params: { userId: 'bob' } });
    // A second instance over the same store counted one more request of ann's.
    const other = new UsageService({
      store: services.store.collection('state'),
      clock,
      flushSeconds: 60,
      retentionSeconds: 86_400,
    });
    other.record('user:ann', 'files', 201);
    await other.flush();
    const res = await call(usageGet, { method: 'GET', ...admin, query: { userId: 'ann' } });
    expect(res.json).toMatchObject({
      userId: 'ann',
      principal: 'user:ann',
      totals: { requests: 3, groups: { 'users:read': { '2xx': 1, '4xx': 1 }, files: { '2xx': 1 } } },
    });
    const none = await call(usageGet, { method: 'GET', ...admin, query: { userId: 'nobody' } });
    expect(none.json).toMatchObject({ lastUsedAt: null, hours: [], totals: { requests: 0, groups: {} } });
  });

  it.each([
    [{ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, 'from'],
    [{ from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }, 'from'],
    [{ from: 'yesterday' }, 'from'],
  ])('a bad range %j is a 400', async (query, path) => {
    const res = await call(usageGet, { method: 'GET', ...admin, query: { userId: 'ann', ...query } });
    expect(res.status).toBe(400);
    expect(res.json.errors[0].path).toBe(path);
  });
});
