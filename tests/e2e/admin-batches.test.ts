/**
 * e2e: batch jobs over the local host — progress, per-item results and timing, bounded
 * concurrency, idempotency by client id, cancel, bad input (4xx, nothing run), and a batch that
 * survives kill -9 of the host mid-way and finishes without applying any item twice.
 */
import {
  cleanupLocalHosts,
  makeTempDataDir,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, expectProblem, type AnyJson, type Client } from './client';
import { eventsOf, issueKey, waitFor } from './admin-helpers';

afterAll(cleanupLocalHosts);

const ENV = {
  BRIDGE_ADMIN_BATCH_MAX_ITEMS: '300',
  BRIDGE_ADMIN_BATCH_CONCURRENCY: '8',
  BRIDGE_ADMIN_JOB_STALL_SECONDS: '3',
  BRIDGE_SWEEP_SCHEDULE: '*/1 * * * * *',
};

const sync = (userId: string, data: Record<string, unknown>) => ({ command: 'sync_user_data', userId, data });
const finished = (b: AnyJson) => b.status === 'completed' || b.status === 'cancelled';

describe('batches', () => {
  let host: LocalHostProcess;
  let admin: Client;

  beforeAll(async () => {
    host = await startLocalHostProcess({ env: ENV, startTimeoutMs: 60_000 });
    admin = client(host.baseUrl, host.adminKey);
  }, 60_000);

  it('runs every item through the command queue and reports progress, results, errors and timing', async () => {
    await admin.post('/admin/users', { userId: 'taken', data: { name: 'Taken' } });
    await admin.post('/admin/users', { userId: 'to-delete', data: { name: 'Gone soon' } });
    const operations = [
      ...Array.from({ length: 20 }, (_, i) => sync(`b-${i}`, { name: `B ${i}` })),
      { command: 'delete_user', userId: 'to-delete' },
      { command: 'create_user', userId: 'taken', data: { name: 'Again' } },
      { command: 'publish_event', type: 'batch_note', data: { n: 1 }, subject: 'b-1' },
      {
        command: 'bayesian_inference',
        role: 'Data Engineer',
        profile: { skillsMatched: 3, skillsRequired: 5, experienceYears: 2, requiredExperienceYears: 3 },
      },
    ];
    const created = await admin.post('/admin/batches', { operations, concurrency: 4 });
    expect(created.status).toBe(202);
    expect(created.headers.get('location')).toBe(`/api/admin/batches/${created.body.id}`);
    expect(created.body).toMatchObject({ total: 24, concurrency: 4, duplicate: false, status: 'running' });
    expect(created.body.running).toBeLessThanOrEqual(4);
    let maxRunning = 0;
    const done = await waitFor(
      async () => {
        const r = await admin.get(`/admin/batches/${created.body.id}`);
        maxRunning = Math.max(maxRunning, r.body.running);
        return r;
      },
      (r) => finished(r.body),
      60_000,
      20,
    );
    expect(maxRunning).toBeLessThanOrEqual(4);
    expect(done.body).toMatchObject({
      status: 'completed',
      total: 24,
      succeeded: 23,
      failed: 1,
      pending: 0,
      running: 0,
    });
    expect(done.body.durationMs).toBeGreaterThanOrEqual(0);
    const items = done.body.items as AnyJson[];
    expect(items.map((i) => i.index)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(items[21]).toMatchObject({
      command: 'create_user',
      status: 'failed',
      error: { kind: 'conflict' },
    });
    expect(items[3]).toMatchObject({ status: 'succeeded', result: { userId: 'b-3', version: 1 } });
    for (const item of items) expect(item.durationMs).toBeGreaterThanOrEqual(0);
    // Each item is an ordinary operation too.
    expect((await admin.get(`/operations/${items[5].operationId}`)).body).toMatchObject({
      status: 'succeeded',
    });
    expect((await admin.get('/users/to-delete')).status).toBe(404);
    expect(items[20]).toMatchObject({
      command: 'delete_user',
      status: 'succeeded',
      result: { deleted: true },
    });
    expect((await admin.get('/users/taken')).body.data).toEqual({ name: 'Taken' });
    // Pages of items.
    const page = await admin.get(`/admin/batches/${created.body.id}?itemsLimit=10&itemsAfter=9`);
    expect(page.body.items.map((i: AnyJson) => i.index)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 10),
    );
    expect(page.body.nextItem).toBe(19);
  }, 90_000);

  it('is idempotent by client id: the same request returns the same batch, another one is a conflict', async () => {
    const body = { operations: [sync('idem-1', { a: 1 })], clientId: 'nightly-2026-11-20' };
    const first = await admin.post('/admin/batches', body);
    const second = await admin.post('/admin/batches', body);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ id: first.body.id, duplicate: true });
    expectProblem(
      await admin.post('/admin/batches', { ...body, operations: [sync('idem-1', { a: 2 })] }),
      409,
    );
    await waitFor(
      () => admin.get(`/admin/batches/${first.body.id}`),
      (r) => finished(r.body),
    );
    expect((await admin.get('/users/idem-1')).body).toMatchObject({ version: 1, data: { a: 1 } });
  });

  it('cancel stops dispatching: items not started are cancelled and never applied', async () => {
    const operations = Array.from({ length: 40 }, (_, i) => sync(`c-${i}`, { n: i }));
    const created = await admin.post('/admin/batches', { operations, concurrency: 1 });
    const cancelled = await admin.post(`/admin/batches/${created.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(['cancelling', 'cancelled']).toContain(cancelled.body.status);
    const done = await waitFor(
      () => admin.get(`/admin/batches/${created.body.id}?itemsLimit=500`),
      (r) => finished(r.body),
    );
    expect(done.body.status).toBe('cancelled');
    expect(done.body.succeeded + done.body.cancelled).toBe(40);
    expect(done.body.cancelled).toBeGreaterThan(30);
    for (const item of done.body.items as AnyJson[]) {
      const user = await admin.get(`/users/c-${item.index}`);
      expect([item.index, user.status]).toEqual([item.index, item.status === 'succeeded' ? 200 : 404]);
    }
    const again = await admin.post(`/admin/batches/${created.body.id}/cancel`);
    expect(again.body.status).toBe('cancelled');
    const small = await admin.post('/admin/batches', { operations: [sync('c-done', { n: 1 })] });
    await waitFor(
      () => admin.get(`/admin/batches/${small.body.id}`),
      (r) => finished(r.body),
    );
    expectProblem(await admin.post(`/admin/batches/${small.body.id}/cancel`), 409);
  });

  it('refuses bad input with 4xx and runs nothing', async () => {
    const userKey = await issueKey(admin, 'user');
    const bad: [unknown, number][] = [
      [{}, 400],
      [{ operations: [] }, 400],
      [{ operations: Array.from({ length: 301 }, () => sync('x-bad', { a: 1 })) }, 400],
      [{ operations: [{ command: 'sync_user_data', userId: 'x-bad' }] }, 400],
      [{ operations: [{ command: 'export_users' }] }, 400], // jobs are not batch items
      [{ operations: [sync('x-bad', { a: 1 })], concurrency: 65 }, 400],
      [{ operations: [sync('x-bad', { a: 1 })], concurrency: 9 }, 400], // over BRIDGE_ADMIN_BATCH_CONCURRENCY
      [{ operations: [sync('x-bad', { a: 1 })], clientId: 'has space' }, 400],
    ];
    for (const [body, status] of bad) expectProblem(await admin.post('/admin/batches', body), status);
    expectProblem(
      await client(host.baseUrl, userKey).post('/admin/batches', { operations: [sync('x-bad', { a: 1 })] }),
      403,
    );
    expectProblem(await admin.get('/admin/batches/bat_000000000000000000000000'), 404);
    expectProblem(await admin.get('/admin/batches/nope'), 400);
    expectProblem(await admin.post('/admin/batches/bat_000000000000000000000000/cancel'), 404);
    expectProblem(await admin.get('/admin/batches/bat_000000000000000000000000?itemsLimit=0'), 400);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await admin.get('/users/x-bad')).status).toBe(404);
  });
});

describe('a batch and kill -9', () => {
  it('finishes after a crash and a restart, applying no item twice', async () => {
    const dataDir = makeTempDataDir();
    const first = await startLocalHostProcess({ dataDir, env: ENV, startTimeoutMs: 60_000 });
    const admin1 = client(first.baseUrl, first.adminKey);
    // 20 users × 10 items; item k of a user writes f_k and last = k. A second application of an
    // item after another item of its user changed `last` would make one more version, so each
    // user's final version is exactly 10 only if no item was applied twice.
    const USERS = 20;
    const PER_USER = 10;
    const operations = [];
    for (let k = 0; k < PER_USER; k++) {
      for (let u = 0; u < USERS; u++) operations.push(sync(`crash-${u}`, { [`f_${k}`]: k, last: k }));
    }
    const created = await admin1.post('/admin/batches', {
      operations,
      concurrency: 8,
      clientId: 'crash-run',
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const before = await waitFor(
      () => admin1.get(`/admin/batches/${id}`),
      (r) => r.body.succeeded >= 40,
      60_000,
      10,
    );
    await first.kill9();
    expect(before.body.succeeded).toBeLessThan(operations.length); // killed mid-way

    const second = await startLocalHostProcess({ dataDir, env: ENV, startTimeoutMs: 60_000 });
    const admin2 = client(second.baseUrl, second.adminKey);
    // Sending the same request again (the client retrying after the crash) finds the same batch.
    const retried = await admin2.post('/admin/batches', {
      operations,
      concurrency: 8,
      clientId: 'crash-run',
    });
    expect(retried.body).toMatchObject({ id, duplicate: true });
    // In-flight messages come back when their locks expire (30 s); the sweeper resends stalled items.
    const done = await waitFor(
      () => admin2.get(`/admin/batches/${id}?itemsLimit=500`),
      (r) => finished(r.body),
      300_000,
      250,
    );
    expect(done.body).toMatchObject({
      status: 'completed',
      total: 200,
      succeeded: 200,
      failed: 0,
      pending: 0,
    });
    for (let u = 0; u < USERS; u++) {
      const user = await admin2.get(`/users/crash-${u}`);
      expect(user.body.version).toBe(PER_USER);
      expect(Object.keys(user.body.data).filter((f) => f.startsWith('f_'))).toHaveLength(PER_USER);
      const events = await eventsOf(admin2, `crash-${u}`);
      expect(events.map((e: AnyJson) => e.data.version)).toEqual(
        Array.from({ length: PER_USER }, (_, i) => i + 1),
      );
    }
    // Every item's recorded result is one version of its user, each version exactly once.
    const versions = new Map<string, number[]>();
    for (const item of done.body.items as AnyJson[]) {
      const list = versions.get(item.result.userId) ?? [];
      list.push(item.result.version);
      versions.set(item.result.userId, list);
    }
    for (const list of versions.values())
      expect([...list].sort((a, b) => a - b)).toEqual(Array.from({ length: PER_USER }, (_, i) => i + 1));
  }, 600_000);
});
