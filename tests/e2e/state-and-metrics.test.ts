/**
 * e2e: shared state (ETags, If-Match, TTL) and the sync metrics, over HTTP on a fresh host (so the
 * metric counters start from zero).
 */
import Database from 'better-sqlite3';
import * as path from 'node:path';
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, expectProblem, type Client } from './client';

let host: LocalHostProcess;
let admin: Client;
let userPortal: Client;

beforeAll(async () => {
  // No background writers (the metrics publisher, the lockstep monitor) while a test holds the
  // SQLite write lock: their wait would add to the timed sync's and blur its latency.
  host = await startLocalHostProcess({
    env: {
      BRIDGE_METRICS_PUBLISH_SECONDS: '3600',
      BRIDGE_METRICS_STALE_SECONDS: '7200',
      BRIDGE_METRICS_TTL_SECONDS: '7200',
      BRIDGE_LOCKSTEP_MONITOR_ENABLED: 'false',
    },
  });
  admin = client(host.baseUrl, host.adminKey);
  const res = await admin.post('/keys', { role: 'user', name: 'user portal' });
  userPortal = client(host.baseUrl, res.body.key as string);
});

afterAll(cleanupLocalHosts);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('shared state', () => {
  test('PUT, GET and DELETE with ETags; If-Match and If-None-Match give 412 on a mismatch', async () => {
    const created = await admin.put('/state/feature.flags', { value: { darkMode: true } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      key: 'feature.flags',
      value: { darkMode: true },
      version: 1,
      updatedAt: expect.any(String),
    });
    const etag1 = created.headers.get('etag');
    expect(etag1).toBeTruthy();

    const read = await userPortal.get('/state/feature.flags'); // any role reads
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(etag1);
    expect(read.body).toEqual(created.body);

    const updated = await admin.put(
      '/state/feature.flags',
      { value: { darkMode: false } },
      { headers: { 'if-match': etag1 as string } },
    );
    expect(updated.status).toBe(200);
    expect(updated.body.version).toBe(2);
    const etag2 = updated.headers.get('etag');
    expect(etag2).toBeTruthy();
    expect(etag2).not.toBe(etag1);

    // A writer still holding the first ETag is refused, and nothing changes.
    const stale = await admin.put(
      '/state/feature.flags',
      { value: { darkMode: 'stale' } },
      { headers: { 'if-match': etag1 as string } },
    );
    expectProblem(stale, 412);
    const created2 = await admin.put(
      '/state/feature.flags',
      { value: 1 },
      { headers: { 'if-none-match': '*' } },
    );
    expectProblem(created2, 412);
    expectProblem(
      await admin.delete('/state/feature.flags', { headers: { 'if-match': etag1 as string } }),
      412,
    );
    const still = await admin.get('/state/feature.flags');
    expect(still.body.value).toEqual({ darkMode: false });
    expect(still.headers.get('etag')).toBe(etag2);

    expect(
      (await admin.delete('/state/feature.flags', { headers: { 'if-match': etag2 as string } })).status,
    ).toBe(204);
    expectProblem(await admin.get('/state/feature.flags'), 404);
    expectProblem(await admin.delete('/state/feature.flags'), 404);
    expectProblem(
      await admin.put('/state/feature.flags', { value: 1 }, { headers: { 'if-match': etag2 as string } }),
      412,
    );
  });

  test('If-None-Match: * creates only once', async () => {
    const first = await admin.put(
      '/state/lock.owner',
      { value: 'worker-1' },
      { headers: { 'if-none-match': '*' } },
    );
    expect(first.status).toBe(200);
    expectProblem(
      await admin.put('/state/lock.owner', { value: 'worker-2' }, { headers: { 'if-none-match': '*' } }),
      412,
    );
    expect((await admin.get('/state/lock.owner')).body.value).toBe('worker-1');
  });

  test('an entry with ttlSeconds: 1 is gone after ~1.5 s', async () => {
    const put = await admin.put('/state/session.tmp', { value: 'short-lived', ttlSeconds: 1 });
    expect(put.status).toBe(200);
    expect((await admin.get('/state/session.tmp')).status).toBe(200);
    await sleep(1500);
    expectProblem(await admin.get('/state/session.tmp'), 404);
    // Gone means gone for conditional writes too: it can be created afresh.
    const again = await admin.put(
      '/state/session.tmp',
      { value: 'new' },
      { headers: { 'if-none-match': '*' } },
    );
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(1);
  });
});

describe('metrics', () => {
  test('count successful, rejected and failed syncs separately, with latency percentiles', async () => {
    const start = (await admin.get('/metrics')).body;
    expect(start).toEqual(
      expect.objectContaining({
        syncCount: 0,
        failedSyncs: 0,
        rejectedSyncs: 0,
        successRate: null,
        syncHealth: 'NO_DATA',
      }),
    );

    // 5 successes (a protected-field rejection inside an applied write is still a success).
    for (let i = 0; i < 4; i++) {
      expect((await admin.post(`/users/m-${i}/sync`, { data: { n: i } })).status).toBe(200);
    }
    const partial = await userPortal.post('/users/m-0/sync', { data: { role: 'admin', n: 10 } });
    expect(partial.body.rejected).toEqual([{ field: 'role', reason: 'protected' }]);

    // 3 client rejections: invalid userId, malformed JSON, baseVersion ahead.
    expectProblem(await admin.post('/users/bad$id/sync', { data: { n: 1 } }), 400);
    expectProblem(await admin.post('/users/m-1/sync', undefined, { raw: '{"data":' }), 400);
    expectProblem(await admin.post('/users/m-1/sync', { data: { n: 1 }, baseVersion: 99 }), 409);

    // Not counted at all: refused before the sync handler ran.
    expectProblem(await admin.post('/users/m-1/sync', undefined, { key: 'wrong' }), 401);

    // 1 server-side failure: another process holds the SQLite write lock past the busy timeout.
    const db = new Database(path.join(host.dataDir, 'bridge.db'));
    let failed;
    let blockedMs = 0;
    try {
      db.exec('BEGIN IMMEDIATE');
      const sent = performance.now();
      failed = await admin.post('/users/m-2/sync', { data: { n: 'blocked' } });
      blockedMs = performance.now() - sent;
    } finally {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    }
    expectProblem(failed, 503);
    expect(failed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await admin.get('/users/m-2')).body.data).toEqual({ n: 2 });

    const metrics = await userPortal.get('/metrics');
    expect(metrics.status).toBe(200);
    const m = metrics.body;
    expect(m).toEqual(
      expect.objectContaining({
        syncCount: 9,
        failedSyncs: 1,
        rejectedSyncs: 3,
        successRate: 0.8333, // (9 − 3 − 1) / (9 − 3)
        syncHealth: 'WARNING',
        stateSize: expect.any(Number),
        since: expect.any(String),
      }),
    );
    const { avg, p50, p95, p99 } = m.latencyMs as { avg: number; p50: number; p95: number; p99: number };
    for (const value of [avg, p50, p95, p99]) expect(value).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
    // The failed sync waited out the store's busy timeout (5 s) and is the slowest of the 6 timed syncs.
    // Compared with the busy timeout, not with the client's wall time: the host's own background writes
    // (metrics snapshot, usage flush) may also wait on the lock and hold the request up further.
    expect(blockedMs).toBeGreaterThan(4000);
    expect(p99).toBeGreaterThan(4000);
    expect(p99).toBeLessThanOrEqual(blockedMs);
    expect(p50).toBeLessThan(1000);
  });

  test('stateSize counts live state entries', async () => {
    const before = (await admin.get('/metrics')).body.stateSize as number;
    await admin.put('/state/size.a', { value: 1 });
    await admin.put('/state/size.b', { value: 2 });
    await admin.put('/state/size.a', { value: 3 });
    expect((await admin.get('/metrics')).body.stateSize).toBe(before + 2);
    await admin.delete('/state/size.b');
    expect((await admin.get('/metrics')).body.stateSize).toBe(before + 1);
  });
});
