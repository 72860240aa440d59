/**
 * e2e: the local host over real HTTP. Health is open; everything else needs a key; the admin
 * issues, lists and revokes user-portal keys.
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { call, client, expectProblem, type Client } from './client';

let host: LocalHostProcess;
let admin: Client;

beforeAll(async () => {
  host = await startLocalHostProcess();
  admin = client(host.baseUrl, host.adminKey);
});

afterAll(cleanupLocalHosts);

test('health is open and reports the store as ok', async () => {
  const res = await call(host.baseUrl, 'GET', '/health');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toEqual(
    expect.objectContaining({ status: 'ok', checks: { store: expect.objectContaining({ ok: true }) } }),
  );
});

test('a generated bootstrap admin key was written to the data dir and works', async () => {
  expect(host.adminKey).toMatch(/^pba_/);
  const res = await admin.get('/keys');
  expect(res.status).toBe(200);
});

test.each([
  ['GET', '/keys'],
  ['POST', '/users/alice/sync'],
  ['GET', '/users/alice'],
  ['GET', '/metrics'],
  ['GET', '/state/some-key'],
])('%s %s: 401 without a key and with a wrong key', async (method, path) => {
  const json = method === 'POST' ? { data: { name: 'x' } } : undefined;
  const missing = await call(host.baseUrl, method, path, { json });
  expectProblem(missing, 401);
  expect(missing.headers.get('www-authenticate')).toMatch(/x-api-key/);

  const wrongFormat = await call(host.baseUrl, method, path, { json, key: 'not-a-key' });
  expectProblem(wrongFormat, 401);
  // Right shape, unknown id: must still be refused (it takes a store read to tell).
  const forged = `pbk_${'a'.repeat(16)}_${'b'.repeat(43)}`;
  expectProblem(await call(host.baseUrl, method, path, { json, key: forged }), 401);
  // The admin key with one character changed.
  const almost = `${host.adminKey.slice(0, -1)}${host.adminKey.endsWith('A') ? 'B' : 'A'}`;
  expectProblem(await call(host.baseUrl, method, path, { json, key: almost }), 401);
});

describe('a user-portal key', () => {
  let issued: { id: string; key: string; role: string; name: string; createdAt: string };

  beforeAll(async () => {
    const res = await admin.post('/keys', { role: 'user', name: 'user portal' });
    expect(res.status).toBe(201);
    issued = res.body;
  });

  test('is issued once, with its id, role, name and creation time', () => {
    expect(issued).toEqual({
      id: expect.stringMatching(/^[a-z0-9]{16}$/),
      key: expect.stringMatching(/^pbk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/),
      role: 'user',
      name: 'user portal',
      createdAt: expect.any(String),
    });
    expect(issued.key).toContain(issued.id);
    expect(Number.isNaN(Date.parse(issued.createdAt))).toBe(false);
  });

  test('is listed without the key or its hash', async () => {
    const res = await admin.get('/keys');
    expect(res.status).toBe(200);
    const listed = (res.body.keys as Record<string, unknown>[]).find((k) => k.id === issued.id);
    expect(listed).toEqual({ id: issued.id, role: 'user', name: 'user portal', createdAt: issued.createdAt });
    expect(res.text).not.toContain(issued.key);
    expect(res.text).not.toContain(issued.key.slice(-43));
    expect(res.text).not.toMatch(/"(hash|key)"\s*:/);
  });

  test('may sync and read, but gets 403 on admin routes', async () => {
    const user = client(host.baseUrl, issued.key);
    expect((await user.post('/users/key-owner/sync', { data: { name: 'Kim' } })).status).toBe(200);
    expect((await user.get('/users/key-owner')).status).toBe(200);
    expect((await user.get('/metrics')).status).toBe(200);

    expectProblem(await user.get('/keys'), 403);
    expectProblem(await user.post('/keys', { role: 'admin', name: 'escalate' }), 403);
    expectProblem(await user.delete(`/keys/${issued.id}`), 403);
    expectProblem(await user.delete('/users/key-owner'), 403);
    expectProblem(await user.put('/state/flag', { value: true }), 403);
    // The refused escalation created no key.
    const keys = (await admin.get('/keys')).body.keys as { name: string }[];
    expect(keys.map((k) => k.name)).not.toContain('escalate');
  });

  test('is refused (401) once revoked, and revoking it again is 404', async () => {
    const user = client(host.baseUrl, issued.key);
    expect((await user.get('/users/key-owner')).status).toBe(200); // now in the auth cache
    const revoked = await admin.delete(`/keys/${issued.id}`);
    expect(revoked.status).toBe(204);
    expect(revoked.text).toBe('');

    expectProblem(await user.get('/users/key-owner'), 401);
    expectProblem(await user.post('/users/key-owner/sync', { data: { name: 'Kim 2' } }), 401);
    expectProblem(await admin.delete(`/keys/${issued.id}`), 404);
    const keys = (await admin.get('/keys')).body.keys as { id: string }[];
    expect(keys.map((k) => k.id)).not.toContain(issued.id);
  });
});

test('key creation validates its body', async () => {
  const badRole = await admin.post('/keys', { role: 'root', name: 'x' });
  expectProblem(badRole, 400);
  expectProblem(await admin.post('/keys', { role: 'user', name: '' }), 400);
  expectProblem(await admin.post('/keys', { role: 'user', name: 'x', extra: 1 }), 400);
});

test('a service key may write shared state but not manage keys', async () => {
  const res = await admin.post('/keys', { role: 'service', name: 'batch job' });
  expect(res.status).toBe(201);
  const service = client(host.baseUrl, res.body.key as string);
  expect((await service.put('/state/job-cursor', { value: 42 })).status).toBe(200);
  expectProblem(await service.get('/keys'), 403);
  expectProblem(await service.delete('/users/anyone'), 403);
});
