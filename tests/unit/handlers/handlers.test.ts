import { invokeHandler } from '../../helpers/invoke-handler';
import { type HttpHandler } from '@azure/functions';
import { setServices, type Services } from '../../../shared/container';
import { healthGet } from '../../../functions/health-get';
import { keysCreate } from '../../../functions/keys-create';
import { keysDelete } from '../../../functions/keys-delete';
import { keysList } from '../../../functions/keys-list';
import { metricsGet } from '../../../functions/metrics-get';
import { stateDelete } from '../../../functions/state-delete';
import { stateGet } from '../../../functions/state-get';
import { statePut } from '../../../functions/state-put';
import { usersDelete } from '../../../functions/users-delete';
import { usersGet } from '../../../functions/users-get';
import { usersSync } from '../../../functions/users-sync';
import { TEST_ADMIN_KEY, makeTestServices } from '../../helpers/test-services';

type Handler = HttpHandler;

interface Call {
  method?: string;
  key?: string;
  params?: Record<string, string>;
  body?: string | object;
  headers?: Record<string, string>;
}

async function call(
  handler: Handler,
  { method = 'GET', key = TEST_ADMIN_KEY, params = {}, body, headers = {} }: Call,
) {
  const res = await invokeHandler(handler, { method, key, params, body, headers });
  return {
    status: res.status,
    headers: res.headers,
    json: res.raw ? (JSON.parse(res.raw) as Record<string, unknown>) : undefined,
  };
}

describe('function handlers (test-mode HttpRequest / InvocationContext)', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let userKey: string;

  beforeEach(async () => {
    ({ services, cleanup } = makeTestServices());
    setServices(services);
    userKey = (await services.apiKeys.issue('user', 'user portal')).key;
  });
  afterEach(async () => {
    setServices(undefined);
    await cleanup();
  });

  it('health is open and reports the store', async () => {
    const res = await call(healthGet, { key: '' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', checks: { store: { ok: true } } });
  });

  it('401 without a key or with a wrong one, 403 for a role that may not act', async () => {
    expect((await call(usersGet, { key: '', params: { userId: 'u1' } })).status).toBe(401);
    const wrong = await call(usersGet, {
      key: 'pbk_0000000000000000_' + 'A'.repeat(43),
      params: { userId: 'u1' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    const forbidden = await call(usersDelete, { method: 'DELETE', key: userKey, params: { userId: 'u1' } });
    expect(forbidden.status).toBe(403);
    expect((await call(keysList, { key: userKey })).status).toBe(403);
  });

  it('sync applies admin writes and rejects a user-portal write to a protected field', async () => {
    const admin = await call(usersSync, {
      method: 'POST',
      params: { userId: 'u1' },
      body: { data: { name: 'Ann', role: 'member' } },
    });
    expect(admin.status).toBe(200);
    const user = await call(usersSync, {
      method: 'POST',
      key: userKey,
      params: { userId: 'u1' },
      body: { data: { name: 'Annie', role: 'admin' } },
    });
    expect(user.json).toMatchObject({
      success: true,
      version: 2,
      applied: ['name'],
      rejected: [{ field: 'role', reason: 'protected' }],
    });
    const read = await call(usersGet, { key: userKey, params: { userId: 'u1' } });
    expect(read.json).toMatchObject({ userId: 'u1', version: 2, data: { name: 'Annie', role: 'member' } });
    expect(read.headers.get('etag')).toBeTruthy();
  });

  it.each([
    ['malformed JSON', '{"data":', 400, 'malformed-json'],
    ['an empty body', '', 400, 'malformed-json'],
    ['a prototype-polluting key', '{"data":{"__proto__":{"admin":true}}}', 400, 'validation'],
    ['a nested constructor key', '{"data":{"x":{"constructor":{"prototype":{"a":1}}}}}', 400, 'validation'],
    ['an unknown top-level property', '{"data":{"a":1},"extra":1}', 400, 'validation'],
    ['a bad field name', '{"data":{"bad field":1}}', 400, 'validation'],
    ['no fields', '{"data":{}}', 400, 'validation'],
    ['a negative baseVersion', '{"data":{"a":1},"baseVersion":-1}', 400, 'validation'],
  ])('sync refuses %s with a problem and changes nothing', async (_name, body, status, type) => {
    await call(usersSync, { method: 'POST', params: { userId: 'u1' }, body: { data: { a: 'before' } } });
    const res = await call(usersSync, { method: 'POST', params: { userId: 'u1' }, body });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json?.type).toBe(`urn:portal-bridge:problem:${type}`);
    expect({} as Record<string, unknown>).not.toHaveProperty('admin');
    const after = await services.sync.get('u1');
    expect(after?.data).toEqual({ a: 'before' });
    expect(after?.version).toBe(1);
  });

  it('reports validation errors with a path and message', async () => {
    const res = await call(usersSync, {
      method: 'POST',
      params: { userId: 'u1' },
      body: '{"data":{"bad field":1}}',
    });
    expect(res.json?.errors).toEqual([
      { path: '/data/bad field', message: expect.stringContaining('must be 1-64 characters') },
    ]);
  });

  it('refuses a declared body over the limit with 413, and a non-JSON content type with 415', async () => {
    const big = await call(usersSync, {
      method: 'POST',
      params: { userId: 'u1' },
      body: { data: { a: 1 } },
      headers: { 'content-length': String(2 * 1024 * 1024) },
    });
    expect(big.status).toBe(413);
    const form = await call(usersSync, {
      method: 'POST',
      params: { userId: 'u1' },
      body: 'a=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('validates user ids', async () => {
    for (const userId of ['bad$id', 'x'.repeat(129), '-leading']) {
      const res = await call(usersGet, { params: { userId } });
      expect(res.status).toBe(400);
      expect(res.json?.errors).toEqual([{ path: 'userId', message: expect.any(String) }]);
    }
  });

  it('counts client rejections apart from successes in metrics', async () => {
    await call(usersSync, { method: 'POST', params: { userId: 'u1' }, body: { data: { a: 1 } } });
    await call(usersSync, { method: 'POST', params: { userId: 'u1' }, body: '{' });
    const res = await call(metricsGet, { key: userKey });
    expect(res.json).toMatchObject({
      syncCount: 2,
      rejectedSyncs: 1,
      failedSyncs: 0,
      successRate: 1,
      syncHealth: 'EXCELLENT',
      stateSize: 0,
    });
    expect(res.json?.latencyMs).toEqual({
      avg: expect.any(Number),
      p50: expect.any(Number),
      p95: expect.any(Number),
      p99: expect.any(Number),
    });
  });

  it('deletes users (admin) with 204, then 404', async () => {
    await call(usersSync, { method: 'POST', params: { userId: 'u1' }, body: { data: { a: 1 } } });
    expect((await call(usersDelete, { method: 'DELETE', params: { userId: 'u1' } })).status).toBe(204);
    expect((await call(usersGet, { params: { userId: 'u1' } })).status).toBe(404);
    expect((await call(usersDelete, { method: 'DELETE', params: { userId: 'u1' } })).status).toBe(404);
  });

  it('state: any role reads, admin/service write, If-Match gives 412 on mismatch', async () => {
    expect(
      (await call(statePut, { method: 'PUT', key: userKey, params: { key: 'k' }, body: { value: 1 } }))
        .status,
    ).toBe(403);
    const put = await call(statePut, {
      method: 'PUT',
      params: { key: 'k' },
      body: { value: { on: true }, ttlSeconds: 60 },
    });
    expect(put.json).toMatchObject({
      key: 'k',
      value: { on: true },
      version: 1,
      expiresAt: expect.any(String),
    });
    const etag = put.headers.get('etag') as string;
    expect((await call(stateGet, { key: userKey, params: { key: 'k' } })).json).toMatchObject({
      value: { on: true },
    });
    const stale = await call(statePut, {
      method: 'PUT',
      params: { key: 'k' },
      body: { value: 2 },
      headers: { 'if-match': '"stale"' },
    });
    expect(stale.status).toBe(412);
    expect(
      (
        await call(statePut, {
          method: 'PUT',
          params: { key: 'k' },
          body: { value: 2 },
          headers: { 'if-match': etag },
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(stateDelete, { method: 'DELETE', params: { key: 'k' }, headers: { 'if-match': etag } }))
        .status,
    ).toBe(412);
    expect((await call(stateDelete, { method: 'DELETE', params: { key: 'k' } })).status).toBe(204);
    expect((await call(stateGet, { params: { key: 'k' } })).status).toBe(404);
  });

  it('keys: issue (shown once), list without secrets, revoke', async () => {
    const created = await call(keysCreate, { method: 'POST', body: { role: 'service', name: 'matcher' } });
    expect(created.status).toBe(201);
    const { id, key } = created.json as { id: string; key: string };
    expect(key).toMatch(/^pbk_/);
    const list = await call(keysList, {});
    expect(JSON.stringify(list.json)).not.toContain(key);
    expect((list.json?.keys as { id: string }[]).map((k) => k.id)).toContain(id);
    expect((await call(keysCreate, { method: 'POST', body: { role: 'root', name: 'x' } })).status).toBe(400);
    expect((await call(keysDelete, { method: 'DELETE', params: { id } })).status).toBe(204);
    expect((await call(usersGet, { key, params: { userId: 'u1' } })).status).toBe(401);
    expect((await call(keysDelete, { method: 'DELETE', params: { id } })).status).toBe(404);
  });

  it('answers 500 naming the setting when configuration is invalid', async () => {
    setServices(undefined);
    const saved = process.env.BRIDGE_ADMIN_KEY;
    delete process.env.BRIDGE_ADMIN_KEY;
    try {
      const res = await call(healthGet, { key: '' });
      expect(res.status).toBe(500);
      expect(res.json?.detail).toContain('BRIDGE_ADMIN_KEY');
    } finally {
      if (saved !== undefined) process.env.BRIDGE_ADMIN_KEY = saved;
    }
  });
});
