/**
 * e2e: the admin-override sync rules, driven over HTTP by an admin portal (bootstrap key) and a
 * user portal (an issued `user` key), as the two portals would.
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, expectProblem, type Client } from './client';

let host: LocalHostProcess;
let admin: Client;
let userPortal: Client;
let secondUserPortal: Client;

beforeAll(async () => {
  host = await startLocalHostProcess();
  admin = client(host.baseUrl, host.adminKey);
  const issue = async (name: string) => {
    const res = await admin.post('/keys', { role: 'user', name });
    expect(res.status).toBe(201);
    return client(host.baseUrl, res.body.key as string);
  };
  userPortal = await issue('user portal');
  secondUserPortal = await issue('user portal (second tab)');
});

afterAll(cleanupLocalHosts);

describe('one user profile, written by both portals in turn', () => {
  const userId = 'alice.smith@example';

  test('the admin creates the profile', async () => {
    const res = await admin.post(`/users/${userId}/sync`, {
      data: { name: 'Alice', role: 'member', email: 'alice@example.com', city: 'Leeds' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      userId,
      version: 1,
      data: { name: 'Alice', role: 'member', email: 'alice@example.com', city: 'Leeds' },
      applied: ['name', 'role', 'email', 'city'],
      rejected: [],
      conflicts: [],
      changed: true,
      latencyMs: expect.any(Number),
    });

    const read = await admin.get(`/users/${userId}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBeTruthy();
    expect(read.body).toEqual(
      expect.objectContaining({ userId, version: 1, data: res.body.data, updatedAt: expect.any(String) }),
    );
    expect(read.body.fields.role).toEqual(expect.objectContaining({ version: 1, source: 'admin' }));
  });

  test('the user portal cannot write the protected `role`, but its other fields apply', async () => {
    const res = await userPortal.post(`/users/${userId}/sync`, {
      data: { role: 'admin', permissions: ['all'], name: 'Alice Smith' },
    });
    expect(res.status).toBe(200);
    expect(res.body.rejected).toEqual([
      { field: 'role', reason: 'protected' },
      { field: 'permissions', reason: 'protected' },
    ]);
    expect(res.body.applied).toEqual(['name']);
    expect(res.body.version).toBe(2);

    const read = await userPortal.get(`/users/${userId}`);
    expect(read.body.data).toEqual({
      name: 'Alice Smith',
      role: 'member',
      email: 'alice@example.com',
      city: 'Leeds',
    });
    expect(read.body.fields.name).toEqual(expect.objectContaining({ version: 2, source: 'user' }));
    expect(read.body.fields.role).toEqual(expect.objectContaining({ version: 1, source: 'admin' }));
  });

  test('a stale user write to a field the admin changed since is rejected as `conflict`', async () => {
    const seen = (await userPortal.get(`/users/${userId}`)).body.version as number; // 2
    const adminChange = await admin.post(`/users/${userId}/sync`, { data: { email: 'alice@corp.example' } });
    expect(adminChange.body.version).toBe(seen + 1);

    const res = await userPortal.post(`/users/${userId}/sync`, {
      data: { email: 'alice@home.example', city: 'York' },
      baseVersion: seen,
    });
    expect(res.status).toBe(200);
    expect(res.body.rejected).toEqual([{ field: 'email', reason: 'conflict' }]);
    expect(res.body.conflicts).toEqual([{ field: 'email', resolution: 'admin-wins' }]);
    expect(res.body.applied).toEqual(['city']);
    expect(res.body.data.email).toBe('alice@corp.example');
    expect(res.body.data.city).toBe('York');
  });

  test('an admin write over a newer user change is an `admin-override`', async () => {
    const seen = (await admin.get(`/users/${userId}`)).body.version as number;
    const userChange = await userPortal.post(`/users/${userId}/sync`, { data: { nickname: 'Ali' } });
    expect(userChange.body.version).toBe(seen + 1);

    const res = await admin.post(`/users/${userId}/sync`, { data: { nickname: 'A.S.' }, baseVersion: seen });
    expect(res.status).toBe(200);
    expect(res.body.conflicts).toEqual([{ field: 'nickname', resolution: 'admin-override' }]);
    expect(res.body.rejected).toEqual([]);
    expect(res.body.applied).toEqual(['nickname']);
    expect((await admin.get(`/users/${userId}`)).body.data.nickname).toBe('A.S.');
  });

  test('user against user is `last-write-wins`', async () => {
    const seen = (await userPortal.get(`/users/${userId}`)).body.version as number;
    const first = await userPortal.post(`/users/${userId}/sync`, {
      data: { bio: 'from tab one' },
      baseVersion: seen,
    });
    expect(first.body.conflicts).toEqual([]);

    const second = await secondUserPortal.post(`/users/${userId}/sync`, {
      data: { bio: 'from tab two' },
      baseVersion: seen,
    });
    expect(second.status).toBe(200);
    expect(second.body.conflicts).toEqual([{ field: 'bio', resolution: 'last-write-wins' }]);
    expect(second.body.rejected).toEqual([]);
    expect(second.body.version).toBe(first.body.version + 1);
    expect((await admin.get(`/users/${userId}`)).body.data.bio).toBe('from tab two');
  });

  test('`null` removes a field', async () => {
    const before = (await admin.get(`/users/${userId}`)).body;
    expect(before.data.nickname).toBe('A.S.');
    const res = await userPortal.post(`/users/${userId}/sync`, { data: { nickname: null } });
    expect(res.status).toBe(200);
    expect(res.body.applied).toEqual(['nickname']);
    expect(res.body.version).toBe(before.version + 1);

    const after = (await admin.get(`/users/${userId}`)).body;
    expect(Object.keys(after.data)).not.toContain('nickname');
    expect(after.fields.nickname).toEqual(
      expect.objectContaining({ deleted: true, version: before.version + 1 }),
    );
    const { nickname: _removed, ...rest } = before.data as Record<string, unknown>;
    expect(after.data).toEqual(rest);
  });

  test('rewriting a field with its current value makes no new version', async () => {
    const before = (await admin.get(`/users/${userId}`)).body;
    const res = await admin.post(`/users/${userId}/sync`, { data: { city: before.data.city } });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(before.version);
  });

  test('a baseVersion ahead of the profile is a 409 problem and changes nothing', async () => {
    const before = await admin.get(`/users/${userId}`);
    const res = await userPortal.post(`/users/${userId}/sync`, {
      data: { city: 'Hull' },
      baseVersion: 10_000,
    });
    expectProblem(res, 409);
    const after = await admin.get(`/users/${userId}`);
    expect(after.body).toEqual(before.body);
  });

  test('the admin deletes the profile; it is then 404', async () => {
    expect((await admin.delete(`/users/${userId}`)).status).toBe(204);
    expectProblem(await userPortal.get(`/users/${userId}`), 404);
    expectProblem(await admin.delete(`/users/${userId}`), 404);
  });
});

test('40 concurrent writers of distinct fields on one user lose nothing', async () => {
  const userId = 'busy-user';
  const seeded = await admin.post(`/users/${userId}/sync`, { data: { seed: true } });
  expect(seeded.body.version).toBe(1);

  const writers = Array.from({ length: 40 }, (_, i) =>
    (i % 2 === 0 ? admin : userPortal).post(`/users/${userId}/sync`, {
      data: { [`field_${i}`]: `value-${i}` },
    }),
  );
  const responses = await Promise.all(writers);
  for (const res of responses) {
    expect(res.status).toBe(200);
    expect(res.body.rejected).toEqual([]);
  }
  // Every write made exactly one new version: versions 2..41, each once.
  const versions = responses.map((r) => r.body.version as number).sort((a, b) => a - b);
  expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));

  const final = (await admin.get(`/users/${userId}`)).body;
  expect(final.version).toBe(41);
  const expected: Record<string, unknown> = { seed: true };
  for (let i = 0; i < 40; i++) expected[`field_${i}`] = `value-${i}`;
  expect(final.data).toEqual(expected);
  // Each field remembers the version that wrote it, matching what its writer was told.
  responses.forEach((res, i) => expect(final.fields[`field_${i}`].version).toBe(res.body.version));
});
