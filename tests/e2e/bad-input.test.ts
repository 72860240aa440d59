/**
 * e2e: bad input gets a 4xx problem+json answer, never a 5xx, changes nothing, and leaves the host
 * serving. Every case is checked against a profile read before and after.
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { call, client, expectProblem, rawRequest, type CallOptions, type Client } from './client';

const VICTIM = 'victim-1';
const ONE_MIB = 1024 * 1024;

let host: LocalHostProcess;
let admin: Client;

beforeAll(async () => {
  // The body limit (1 MiB) is what is tested here, so events may be as large (by default an event
  // over BRIDGE_MAX_EVENT_BYTES, 192 KiB, is refused first: tests/e2e/lockstep-isolation.test.ts).
  host = await startLocalHostProcess({ env: { BRIDGE_MAX_EVENT_BYTES: String(2 * 1024 * 1024) } });
  admin = client(host.baseUrl, host.adminKey);
  const created = await admin.post(`/users/${VICTIM}/sync`, {
    data: { name: 'Victor', prefs: { theme: 'dark' } },
  });
  expect(created.status).toBe(200);
});

afterAll(cleanupLocalHosts);

/** A sync body of exactly `bytes` bytes. */
function syncBodyOfSize(bytes: number): string {
  const empty = '{"data":{"blob":""}}';
  return `{"data":{"blob":"${'x'.repeat(bytes - empty.length)}"}}`;
}

const syncPath = `/users/${VICTIM}/sync`;

interface Case {
  name: string;
  method: string;
  path: string;
  options: CallOptions;
  status: number;
}

const cases: Case[] = (
  [
    ['malformed JSON', 'POST', syncPath, { raw: '{"data": {"name": "x"' }, 400],
    ['an empty body', 'POST', syncPath, { raw: '' }, 400],
    ['JSON that is not an object', 'POST', syncPath, { raw: '[1,2,3]' }, 400],
    ['a __proto__ field', 'POST', syncPath, { raw: '{"data":{"__proto__":{"polluted":true}}}' }, 400],
    [
      'a top-level __proto__',
      'POST',
      syncPath,
      { raw: '{"__proto__":{"polluted":true},"data":{"a":1}}' },
      400,
    ],
    [
      'an escaped __proto__',
      'POST',
      syncPath,
      { raw: '{"data":{"\\u005f_proto__":{"polluted":true}}}' },
      400,
    ],
    [
      'a nested constructor',
      'POST',
      syncPath,
      { json: { data: { prefs: { constructor: { polluted: true } } } } },
      400,
    ],
    [
      'a nested prototype',
      'POST',
      syncPath,
      { json: { data: { list: [{ a: { prototype: { polluted: 1 } } }] } } },
      400,
    ],
    ['a `prototype` field', 'POST', syncPath, { json: { data: { prototype: 1 } } }, 400],
    ['a 200-character userId', 'POST', `/users/${'u'.repeat(200)}/sync`, { json: { data: { a: 1 } } }, 400],
    ['a userId with $', 'POST', '/users/bad$id/sync', { json: { data: { a: 1 } } }, 400],
    ['a userId with a space', 'POST', '/users/bad%20id/sync', { json: { data: { a: 1 } } }, 400],
    ['broken percent-encoding', 'POST', '/users/%E0%A4%A/sync', { json: { data: { a: 1 } } }, 400],
    ['an empty data object', 'POST', syncPath, { json: { data: {} } }, 400],
    ['an unknown top-level property', 'POST', syncPath, { json: { data: { a: 1 }, extra: true } }, 400],
    ['an invalid field name', 'POST', syncPath, { json: { data: { 'bad name': 1 } } }, 400],
    ['a negative baseVersion', 'POST', syncPath, { json: { data: { a: 1 }, baseVersion: -1 } }, 400],
    ['a fractional baseVersion', 'POST', syncPath, { json: { data: { a: 1 }, baseVersion: 1.5 } }, 400],
    [
      '501 fields',
      'POST',
      syncPath,
      { json: { data: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`f${i}`, i])) } },
      400,
    ],
    [
      'a text/plain body',
      'POST',
      syncPath,
      { raw: '{"data":{"a":1}}', headers: { 'content-type': 'text/plain' } },
      415,
    ],
    ['an unknown route', 'GET', '/no-such-thing', {}, 404],
    ['an unknown nested route', 'POST', `/users/${VICTIM}/sync/extra`, { json: { data: { a: 1 } } }, 404],
    ['the wrong method on sync', 'PATCH', syncPath, { json: { data: { a: 1 } } }, 405],
    ['the wrong method on a user', 'PUT', `/users/${VICTIM}`, { json: { data: { a: 1 } } }, 405],
    ['an invalid state key', 'PUT', '/state/bad$key', { json: { value: 1 } }, 400],
    [
      'a state value with a constructor key',
      'PUT',
      '/state/k1',
      { json: { value: { constructor: 1 } } },
      400,
    ],
    ['a ttlSeconds of 0', 'PUT', '/state/k1', { json: { value: 1, ttlSeconds: 0 } }, 400],
    // Path ids that no store accepts (/ \\ ? #, over 255 characters) are 400s, never 500s.
    ['a subscription id with an encoded /', 'DELETE', '/subscriptions/a%2fb', {}, 400],
    ['a subscription id with an encoded \\', 'DELETE', '/subscriptions/a%5Cb', {}, 400],
    ['a 256-character subscription id', 'DELETE', `/subscriptions/${'s'.repeat(256)}`, {}, 400],
    ['dead letters of an id with an encoded /', 'GET', '/subscriptions/a%2Fb/dead-letters', {}, 400],
    [
      'a redelivery for an id with an encoded #',
      'POST',
      '/subscriptions/a%23b/dead-letters/redeliver',
      {},
      400,
    ],
    ['an operation id with an encoded /', 'GET', '/operations/op%2f..', {}, 400],
    ['a 300-character operation id', 'GET', `/operations/${'o'.repeat(300)}`, {}, 400],
    ['an API key id with an encoded \\', 'DELETE', '/keys/k%5C1', {}, 400],
    ['a secret name with an encoded /', 'PUT', '/secrets/a%2Fb', { json: { value: 'v' } }, 400],
    ['a state key with an encoded /', 'GET', '/state/a%2Fb', {}, 400],
    ['a title over 200 characters', 'GET', `/job-titles/${'t'.repeat(201)}/pathways?userId=ann`, {}, 400],
    ['an unknown subscription', 'DELETE', '/subscriptions/sub_0123456789abcdef', {}, 404],
    ['an unknown operation', 'GET', '/operations/op_0123456789abcdef01234567', {}, 404],
  ] as const
).map(([name, method, path, options, status]) => ({
  name,
  method,
  path,
  options: options as CallOptions,
  status,
}));

/** Reads the victim profile, runs `send`, and checks that nothing changed and the host still answers. */
async function expectUnchangedAfter(send: () => Promise<void>): Promise<void> {
  const before = await admin.get(`/users/${VICTIM}`);
  expect(before.status).toBe(200);
  await send();
  const after = await admin.get(`/users/${VICTIM}`);
  expect(after.body).toEqual(before.body);
  expect(after.headers.get('etag')).toBe(before.headers.get('etag'));
  expect((await call(host.baseUrl, 'GET', '/health')).status).toBe(200);
}

test.each(cases)(
  '$name ($method) → $status problem, nothing changed',
  async ({ method, path, options, status }) => {
    await expectUnchangedAfter(async () => {
      const res = await call(host.baseUrl, method, path, { key: host.adminKey, ...options });
      const problem = expectProblem(res, status);
      expect(problem.detail).toEqual(expect.any(String));
      if (status === 405) expect(res.headers.get('allow')).toBeTruthy();
    });
  },
);

test.each([
  ['1 MiB + 1 byte', ONE_MIB + 1],
  ['5 MiB', 5 * ONE_MIB],
])('a sync body of %s → 413 problem, nothing changed', async (_label, bytes) => {
  await expectUnchangedAfter(async () => {
    const res = await rawRequest(
      host.port,
      'POST',
      `/api${syncPath}`,
      { 'content-type': 'application/json', 'x-api-key': host.adminKey },
      Buffer.from(syncBodyOfSize(bytes)),
    );
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toEqual(
      expect.objectContaining({ status: 413, title: 'Payload too large' }),
    );
  });
});

test('validation problems name the offending paths', async () => {
  const res = await admin.post(syncPath, { data: { 'bad name': 1, good: 2 }, baseVersion: 'x' });
  const problem = expectProblem(res, 400);
  const paths = (problem.errors as { path: string }[]).map((e) => e.path);
  expect(paths).toEqual(expect.arrayContaining(['/data/bad name', '/baseVersion']));

  const polluted = expectProblem(await admin.post(syncPath, { data: { prefs: { constructor: 1 } } }), 400);
  expect(polluted.errors).toEqual([{ path: '/data/prefs/constructor', message: expect.any(String) }]);
});

test('a body just under 1 MiB is accepted (the limit is not off by a mile)', async () => {
  const res = await call(host.baseUrl, 'POST', '/users/big-but-ok/sync', {
    key: host.adminKey,
    raw: syncBodyOfSize(ONE_MIB - 16),
  });
  expect(res.status).toBe(200);
  expect((res.body.data.blob as string).length).toBe(ONE_MIB - 16 - '{"data":{"blob":""}}'.length);
});

test('no bad request left a 5xx or an error in the host log, and nothing polluted the profile', async () => {
  const read = await admin.get(`/users/${VICTIM}`);
  expect(read.body.data).toEqual({ name: 'Victor', prefs: { theme: 'dark' } });
  expect(read.body.version).toBe(1);
  expect(JSON.stringify(read.body)).not.toContain('polluted');
  expect(host.output()).not.toMatch(/\[error\]/);
});
