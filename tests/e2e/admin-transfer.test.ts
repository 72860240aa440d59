/**
 * e2e: export and import over the local host. 10,000 users go in from an uploaded gzip NDJSON file
 * (with a few bad lines, reported with reasons), out as an export (download link), and into a
 * second, empty host; importing the same file again changes nothing; an import killed mid-way
 * resumes after a restart with exact counts. Records the hosts' peak RSS (VmHWM).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  cleanupLocalHosts,
  makeTempDataDir,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { call, client, expectProblem, type AnyJson, type Client } from './client';
import { eventsOf, issueKey, peakRssMiB, waitFor } from './admin-helpers';

afterAll(cleanupLocalHosts);

const USERS = 10_000;
// The lockstep monitor (its probe syncs user lockstep-probe every minute) is off: the counts are exact.
const ENV = {
  BRIDGE_ADMIN_JOB_STALL_SECONDS: '3',
  BRIDGE_SWEEP_SCHEDULE: '*/1 * * * * *',
  BRIDGE_LOCKSTEP_MONITOR_ENABLED: 'false',
};

function seedUsers(count: number, prefix = 'u') {
  return Array.from({ length: count }, (_, i) => ({
    userId: `${prefix}-${String(i).padStart(5, '0')}`,
    data: {
      name: `User ${i}`,
      email: `user${i}@example.com`,
      jobTitle: ['Data Engineer', 'Nurse', 'Accountant'][i % 3] as string,
      skills: ['SQL', 'Python', 'Excel'].slice(0, (i % 3) + 1),
      profile: { city: i % 2 ? 'Oslo' : 'Leeds', years: i % 20 },
    },
  }));
}

async function upload(api: Client, path: string, body: Buffer): Promise<void> {
  const r = await api.call('PUT', `/files/${path}`, {
    raw: body,
    headers: { 'content-type': 'application/gzip' },
  });
  expect([200, 201]).toContain(r.status);
}

const done = (b: AnyJson) => b.status === 'succeeded' || b.status === 'failed';

async function runImport(api: Client, body: unknown): Promise<AnyJson> {
  const started = await api.post('/admin/imports', body);
  expect(started.status).toBe(202);
  const finished = await waitFor(
    () => api.get(`/admin/imports/${started.body.id}`),
    (r) => done(r.body),
    600_000,
    500,
  );
  return finished.body;
}

async function runExport(api: Client): Promise<AnyJson> {
  const started = await api.post('/admin/exports');
  expect(started.status).toBe(202);
  const finished = await waitFor(
    () => api.get(`/admin/exports/${started.body.id}`),
    (r) => done(r.body),
    300_000,
    500,
  );
  return finished.body;
}

function usersOf(file: Buffer): Map<string, unknown> {
  const users = new Map<string, unknown>();
  for (const line of gunzipSync(file).toString('utf8').split('\n')) {
    if (!line) continue;
    const parsed = JSON.parse(line) as AnyJson;
    if (parsed.kind === 'user') users.set(parsed.userId, parsed.data);
  }
  return users;
}

describe('export → import round trip of 10,000 users', () => {
  let a: LocalHostProcess;
  let b: LocalHostProcess;

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startLocalHostProcess({ env: ENV, startTimeoutMs: 60_000 }),
      startLocalHostProcess({ env: ENV, startTimeoutMs: 60_000 }),
    ]);
  }, 130_000);

  it('imports an uploaded file, exports it, imports the export elsewhere, and a second import changes nothing', async () => {
    const adminA = client(a.baseUrl, a.adminKey);
    const adminB = client(b.baseUrl, b.adminKey);
    const seed = seedUsers(USERS);
    const lines = seed.map((u) => JSON.stringify(u));
    // Three bad lines in the middle, reported with their line numbers.
    lines.splice(100, 0, 'not json', '{"userId":"bad/id","data":{"x":1}}', '{"userId":"empty","data":{}}');
    await upload(adminA, 'imports/seed.ndjson.gz', gzipSync(Buffer.from(lines.join('\n') + '\n')));

    const seeded = await runImport(adminA, { path: 'imports/seed.ndjson.gz' });
    expect(seeded).toMatchObject({
      status: 'succeeded',
      lines: USERS + 3,
      accepted: USERS,
      changed: USERS,
      rejected: 3,
    });
    expect(seeded.rejections.map((r: AnyJson) => r.line)).toEqual([101, 102, 103]);
    for (const r of seeded.rejections) expect(r.reason.length).toBeGreaterThan(5);

    const exported = await runExport(adminA);
    expect(exported).toMatchObject({ status: 'succeeded', users: USERS, urlNeedsApiKey: true });
    const download = await fetch(exported.url, { headers: { 'x-api-key': a.adminKey } });
    expect(download.status).toBe(200);
    const file = Buffer.from(await download.arrayBuffer());
    expect(file.length).toBe(exported.bytes);
    const users = usersOf(file);
    expect(users.size).toBe(USERS);
    for (const u of [seed[0], seed[4242], seed[USERS - 1]]) expect(users.get(u!.userId)).toEqual(u!.data);

    // Into the empty host B, through its files route.
    await upload(adminB, 'imports/from-a.ndjson.gz', file);
    const imported = await runImport(adminB, { path: 'imports/from-a.ndjson.gz' });
    expect(imported).toMatchObject({
      status: 'succeeded',
      accepted: USERS,
      changed: USERS,
      skipped: 1,
      rejected: 0,
    });
    const again = await runImport(adminB, { path: 'imports/from-a.ndjson.gz' });
    expect(again).toMatchObject({
      status: 'succeeded',
      accepted: USERS,
      changed: 0,
      unchanged: USERS,
      rejected: 0,
    });
    for (const u of [seed[1], seed[9000]]) {
      const got = await adminB.get(`/users/${u!.userId}`);
      expect(got.body).toMatchObject({ version: 1, data: u!.data });
      expect(await eventsOf(adminB, u!.userId)).toHaveLength(1);
    }
    const roundTrip = usersOf(
      Buffer.from(
        await (
          await fetch((await runExport(adminB)).url, { headers: { 'x-api-key': b.adminKey } })
        ).arrayBuffer(),
      ),
    );
    expect(roundTrip).toEqual(users);

    const rssA = peakRssMiB(a.child.pid);
    const rssB = peakRssMiB(b.child.pid);
    console.log(
      `[admin-transfer] ${USERS} users: export ${exported.bytes} bytes; peak RSS host A ${rssA} MiB, host B ${rssB} MiB`,
    );
    if (rssA !== undefined) expect(rssA).toBeLessThan(600);
  }, 2_400_000);

  it('refuses bad requests with 4xx and starts nothing', async () => {
    const adminA = client(a.baseUrl, a.adminKey);
    const userKey = await issueKey(adminA, 'user');
    for (const body of [
      {},
      { path: 'imports/none.ndjson' },
      { exportId: 'exp_000000000000000000000000' },
      { path: '../x' },
      { path: 'a', exportId: 'exp_000000000000000000000000' },
    ]) {
      const r = await adminA.post('/admin/imports', body);
      expect([r.status, r.headers.get('content-type')?.startsWith('application/problem+json')]).toEqual([
        400,
        true,
      ]);
    }
    expectProblem(await adminA.post('/admin/exports', { includeEvents: 'yes' }), 400);
    expectProblem(await client(a.baseUrl, userKey).post('/admin/exports'), 403);
    expectProblem(
      await client(a.baseUrl, userKey).post('/admin/imports', { path: 'imports/seed.ndjson.gz' }),
      403,
    );
    expectProblem(await adminA.get('/admin/exports/exp_000000000000000000000000'), 404);
    expectProblem(await adminA.get('/admin/imports/imp_000000000000000000000000'), 404);
    expectProblem(await adminA.get('/admin/exports/bad'), 400);
    expectProblem(await adminA.get('/admin/imports/imp_000000000000000000000000?limit=0'), 400);
    // The export file is not for user keys.
    const r = await call(a.baseUrl, 'GET', '/files/exports/x/users.ndjson.gz', { key: userKey });
    expect(r.status).toBe(403);
  });
});

describe('an import and kill -9', () => {
  it('resumes after a restart and ends with exact counts, no line applied twice', async () => {
    const dataDir = makeTempDataDir();
    const first = await startLocalHostProcess({ dataDir, env: ENV, startTimeoutMs: 60_000 });
    const admin1 = client(first.baseUrl, first.adminKey);
    const COUNT = 3_000;
    // Two lines per user: line 2 of a user overwrites `step`; a replay of line 1 after it would
    // make a third version, so every user at version 2 means no line was applied twice.
    const lines: string[] = [];
    for (let i = 0; i < COUNT / 2; i++) {
      lines.push(JSON.stringify({ userId: `r-${i}`, data: { step: 1, first: true } }));
    }
    for (let i = 0; i < COUNT / 2; i++) lines.push(JSON.stringify({ userId: `r-${i}`, data: { step: 2 } }));
    await upload(admin1, 'imports/resume.ndjson.gz', gzipSync(Buffer.from(lines.join('\n'))));
    const started = await admin1.post('/admin/imports', {
      path: 'imports/resume.ndjson.gz',
      clientId: 'resume-1',
    });
    const id = started.body.id as string;
    const mid = await waitFor(
      () => admin1.get(`/admin/imports/${id}`),
      (r) => r.body.lines >= 300 || done(r.body),
      60_000,
      10,
    );
    await first.kill9();
    expect(mid.body.lines).toBeLessThan(COUNT);

    const second = await startLocalHostProcess({ dataDir, env: ENV, startTimeoutMs: 60_000 });
    const admin2 = client(second.baseUrl, second.adminKey);
    const finished = await waitFor(
      () => admin2.get(`/admin/imports/${id}`),
      (r) => done(r.body),
      180_000,
      250,
    );
    expect(finished.body).toMatchObject({
      status: 'succeeded',
      lines: COUNT,
      accepted: COUNT,
      changed: COUNT,
      rejected: 0,
    });
    for (const i of [0, 7, COUNT / 2 - 1]) {
      expect((await admin2.get(`/users/r-${i}`)).body).toMatchObject({
        version: 2,
        data: { step: 2, first: true },
      });
    }
    const sample = await admin2.get('/admin/users?idPrefix=r-&limit=100');
    for (const user of sample.body.users) expect(user.version).toBe(2);
  }, 900_000);
});
