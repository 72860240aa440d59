/**
 * e2e: GET and POST /api/admin/users over the local host — create (201/409), search, filters,
 * sorts, caps, bad input (4xx, nothing changed), non-admin keys (403), the queued form, and a cursor
 * that stays stable while users are created, changed and deleted between pages.
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, expectProblem, type AnyJson, type ApiResponse, type Client } from './client';
import { eventsOf, issueKey, waitFor } from './admin-helpers';

afterAll(cleanupLocalHosts);

let host: LocalHostProcess;
let admin: Client;
let userKey: string;

const SEEDED = 60;
const seedUser = (i: number) => ({
  userId: `seed-${String(i).padStart(3, '0')}`,
  data: {
    name: i % 10 === 0 ? `Zoë Ångström ${i}` : `Person ${i}`,
    email: `p${i}@${i % 2 === 0 ? 'Example.org' : 'mail.test'}`,
    jobTitle: i % 3 === 0 ? 'Data Engineer' : 'Nurse',
    city: i % 4 === 0 ? 'Oslo' : 'Leeds',
    level: i % 5,
  },
});

beforeAll(async () => {
  host = await startLocalHostProcess({ startTimeoutMs: 60_000 });
  admin = client(host.baseUrl, host.adminKey);
  userKey = await issueKey(admin, 'user');
  // Created in order, a few at a time, so createdAt follows the index.
  for (let i = 0; i < SEEDED; i += 4) {
    const created = await Promise.all(
      [i, i + 1, i + 2, i + 3].filter((n) => n < SEEDED).map((n) => admin.post('/admin/users', seedUser(n))),
    );
    for (const r of created) expect(r.status).toBe(201);
  }
}, 120_000);

async function listAll(
  query: string,
  limit = 7,
): Promise<{ userId: string; createdAt: string; data: Record<string, unknown> }[]> {
  const out = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const sep = query ? '&' : '';
    const r: ApiResponse<AnyJson> = await admin.get(
      `/admin/users?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(r.status).toBe(200);
    out.push(...r.body.users);
    cursor = r.body.next;
    if (cursor === null) break;
  }
  return out;
}

describe('POST /api/admin/users', () => {
  it('creates with an admin write (201, event), refuses an existing user (409) and keeps it unchanged', async () => {
    const created = await admin.post('/admin/users', {
      userId: 'new-ann',
      data: { name: 'Ann', role: 'member' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/users/new-ann');
    expect(created.body).toMatchObject({
      userId: 'new-ann',
      version: 1,
      changed: true,
      data: { name: 'Ann', role: 'member' },
    });
    // A protected field is an admin's to write: it applied.
    expect(created.body.applied).toEqual(['name', 'role']);
    const again = await admin.post('/admin/users', { userId: 'new-ann', data: { name: 'Other' } });
    expectProblem(again, 409);
    expect((await admin.get('/users/new-ann')).body).toMatchObject({ version: 1, data: { name: 'Ann' } });
    expect((await eventsOf(admin, 'new-ann')).map((e: AnyJson) => e.id)).toEqual(['user:new-ann:1']);
  });

  it('refuses bad bodies and non-admin keys, creating nothing', async () => {
    const bad: unknown[] = [
      {},
      { userId: 'ok-id' },
      { userId: 'ok-id', data: {} },
      { userId: 'a/b', data: { x: 1 } },
      { userId: 'ok-id', data: { 'bad field': 1 } },
      { userId: 'ok-id', data: { x: 1 }, extra: true },
    ];
    for (const body of bad) expectProblem(await admin.post('/admin/users', body), 400);
    expectProblem(await admin.call('POST', '/admin/users', { raw: '{"userId":', headers: {} }), 400);
    expectProblem(
      await admin.call('POST', '/admin/users', {
        raw: '{"userId":"ok-id","data":{"x":{"__proto__":{"admin":true}}}}',
      }),
      400,
    );
    expectProblem(
      await client(host.baseUrl, userKey).post('/admin/users', { userId: 'ok-id', data: { x: 1 } }),
      403,
    );
    expectProblem(await client(host.baseUrl).post('/admin/users', { userId: 'ok-id', data: { x: 1 } }), 401);
    expect((await admin.get('/users/ok-id')).status).toBe(404);
  });

  it('has a queued form (POST /api/operations create_user), admin only', async () => {
    expectProblem(
      await client(host.baseUrl, userKey).post('/operations', {
        command: 'create_user',
        userId: 'queued-1',
        data: { a: 1 },
      }),
      403,
    );
    const queued = await admin.post('/operations', {
      command: 'create_user',
      userId: 'queued-1',
      data: { a: 1 },
    });
    expect(queued.status).toBe(202);
    const done = await waitFor(
      () => admin.get(`/operations/${queued.body.id}`),
      (r) => r.body.status !== 'queued',
    );
    expect(done.body).toMatchObject({ status: 'succeeded', result: { userId: 'queued-1', version: 1 } });
    const twice = await admin.post('/operations', {
      command: 'create_user',
      userId: 'queued-1',
      data: { a: 2 },
    });
    const failed = await waitFor(
      () => admin.get(`/operations/${twice.body.id}`),
      (r) => r.body.status !== 'queued',
    );
    expect(failed.body).toMatchObject({ status: 'failed', error: { kind: 'conflict' } });
  });
});

describe('GET /api/admin/users', () => {
  it('searches name, email and title fields ignoring case, and filters by id prefix and a field value', async () => {
    const byQ = await listAll('q=zoË%20åNG');
    expect(byQ.map((u) => u.userId)).toEqual([
      'seed-000',
      'seed-010',
      'seed-020',
      'seed-030',
      'seed-040',
      'seed-050',
    ]);
    expect((await listAll('q=EXAMPLE.ORG')).length).toBe(30);
    expect((await listAll('q=data%20engineer')).length).toBe(20);
    expect((await listAll('idPrefix=seed-05')).map((u) => u.userId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `seed-05${i}`),
    );
    expect((await listAll('field=city&value=Oslo')).length).toBe(15);
    expect((await listAll('field=level&value=0&valueType=number')).length).toBe(12);
    expect((await listAll('field=level&value=0')).length).toBe(0); // "0" the string is not 0 the number
    expect((await listAll('field=city&value=Oslo&q=data')).map((u) => u.userId)).toEqual([
      'seed-000',
      'seed-012',
      'seed-024',
      'seed-036',
      'seed-048',
    ]);
  });

  it('filters by creation and update time and sorts both ways', async () => {
    const all = await listAll('sort=createdAt&idPrefix=seed-', 50);
    expect(all).toHaveLength(SEEDED);
    const times = all.map((u) => u.createdAt);
    expect([...times].sort()).toEqual(times);
    const middle = times[30] as string;
    const after = await listAll(`idPrefix=seed-&createdAfter=${encodeURIComponent(middle)}`);
    expect(after.length).toBe(times.filter((t) => t >= middle).length);
    const before = await listAll(`idPrefix=seed-&createdBefore=${encodeURIComponent(middle)}`);
    expect(before.length + after.length).toBe(SEEDED);
    const desc = await listAll('sort=createdAt&order=desc&idPrefix=seed-', 9);
    expect(desc.map((u) => u.userId)).toEqual([...all].reverse().map((u) => u.userId));
    const byUpdated = await listAll(
      'sort=updatedAt&order=desc&idPrefix=seed-&updatedAfter=2000-01-01T00:00:00Z',
    );
    expect(byUpdated).toHaveLength(SEEDED);
  });

  it('caps the page size, and refuses bad parameters and foreign cursors with 400', async () => {
    const page = await admin.get('/admin/users?limit=100');
    expect(page.body.limit).toBe(100);
    for (const q of [
      'limit=101',
      'limit=0',
      'sort=name',
      'order=up',
      'createdAfter=yesterday',
      'field=bad%20field&value=x',
      'field=city',
      'valueType=number&field=level&value=abc',
      'q=' + 'x'.repeat(101),
      'cursor=***',
      'cursor=' + Buffer.from('["o1","createdAt:desc","x","y","z"]').toString('base64url'),
    ]) {
      expectProblem(await admin.get(`/admin/users?${q}`), 400);
    }
    const first = await admin.get('/admin/users?limit=2&sort=createdAt');
    expectProblem(await admin.get(`/admin/users?limit=2&sort=userId&cursor=${first.body.next}`), 400);
    expectProblem(await client(host.baseUrl, userKey).get('/admin/users'), 403);
    expectProblem(await admin.get('/Admin/users?limit=1&sort=nope'), 400);
  });

  it('pages stay stable while users are created, changed and deleted between and during pages', async () => {
    const before = await listAll('sort=createdAt&idPrefix=seed-', 100);
    let writes = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const target = `seed-${String((n * 7 + w) % SEEDED).padStart(3, '0')}`;
        const results = await Promise.all([
          admin.post(`/users/${target}/sync`, { data: { name: `renamed ${w}-${n}`, touched: n } }),
          admin.post('/admin/users', { userId: `seed-late-${w}-${n}`, data: { name: `late ${n}` } }),
        ]);
        for (const r of results) expect([200, 201]).toContain(r.status);
        if (n % 3 === 0) await admin.delete(`/users/seed-late-${w}-${n}`);
        writes += 3;
      }
    };
    const writers = [writer(1), writer(2)];
    const seen: { userId: string; createdAt: string }[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 200; pages++) {
      const r: ApiResponse<AnyJson> = await admin.get(
        `/admin/users?sort=createdAt&idPrefix=seed-&limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.users);
      cursor = r.body.next;
      if (cursor === null || seen.length >= SEEDED + 400) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stop = true;
    await Promise.all(writers);
    expect(writes).toBeGreaterThan(20); // the writers really ran while paging
    const ids = seen.map((u) => u.userId);
    expect(new Set(ids).size).toBe(ids.length); // no user twice
    const original = new Set(before.map((u) => u.userId));
    expect(ids.filter((id) => original.has(id))).toEqual(before.map((u) => u.userId)); // every one, once, in order
    const times = seen.map((u) => u.createdAt);
    expect([...times].sort()).toEqual(times);
  }, 120_000);
});
