/**
 * Metrics across instances: two bridge processes share one store (two local hosts over one
 * BRIDGE_DATA_DIR; SQLite is shared across processes). Each publishes its snapshot every second;
 * GET /api/metrics on either merges both, lists both, and once one stops, reports it stale and
 * leaves its figures out.
 */
import {
  cleanupLocalHosts,
  makeTempDataDir,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, type AnyJson } from './client';

const ADMIN_KEY = 'cluster-metrics-admin-key-0123456789';
const env = {
  BRIDGE_ADMIN_KEY: ADMIN_KEY,
  BRIDGE_METRICS_PUBLISH_SECONDS: '1',
  BRIDGE_METRICS_STALE_SECONDS: '3',
  BRIDGE_METRICS_TTL_SECONDS: '60',
  // Keep the timers of two hosts on one store quiet.
  BRIDGE_LOCKSTEP_MONITOR_ENABLED: 'false',
  BRIDGE_PROVIDER_CHECK_ENABLED: 'false',
};

let a: LocalHostProcess;
let b: LocalHostProcess;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `host`'s metrics until `done` holds (or fails after 15 s, showing the last answer). */
async function metricsUntil(
  host: LocalHostProcess,
  done: (m: AnyJson) => boolean,
  query = '',
): Promise<AnyJson> {
  let last: AnyJson;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(200)) {
    last = (await client(host.baseUrl, ADMIN_KEY).get(`/metrics${query}`)).body;
    if (done(last)) return last;
  }
  throw new Error(`metrics never reached the expected state; last: ${JSON.stringify(last, null, 2)}`);
}

// Two hosts start one after the other; on a busy 2-core machine that can take a while.
beforeAll(async () => {
  const dataDir = makeTempDataDir();
  a = await startLocalHostProcess({ dataDir, env, startTimeoutMs: 60_000 });
  b = await startLocalHostProcess({ dataDir, env, startTimeoutMs: 60_000 });
}, 150_000);

afterAll(async () => {
  await cleanupLocalHosts();
});

test('each instance counts its own syncs; either answers with both merged, and lists both', async () => {
  const apiA = client(a.baseUrl, ADMIN_KEY);
  const apiB = client(b.baseUrl, ADMIN_KEY);
  for (let i = 0; i < 5; i++)
    expect((await apiA.post(`/users/a-${i}/sync`, { data: { n: i } })).status).toBe(200);
  for (let i = 0; i < 3; i++)
    expect((await apiB.post(`/users/b-${i}/sync`, { data: { n: i } })).status).toBe(200);
  // A refused sync counts as a client rejection on B.
  expect((await apiB.post('/users/b-x/sync', { data: {} })).status).toBe(400);

  const fromA = await metricsUntil(a, (m) => m.syncCount === 9 && m.instancesMerged === 2);
  expect(fromA).toMatchObject({
    scope: 'cluster',
    syncCount: 9,
    rejectedSyncs: 1,
    failedSyncs: 0,
    successRate: 1,
    syncHealth: 'EXCELLENT',
    instancesMerged: 2,
    instancesLeftOut: 0,
    publishIntervalSeconds: 1,
    staleAfterSeconds: 3,
  });
  expect(fromA.instances).toHaveLength(2);
  const [self, other] = fromA.instances;
  expect(self).toMatchObject({ self: true, stale: false, syncCount: 5, instanceId: fromA.instanceId });
  expect(other).toMatchObject({ self: false, stale: false, syncCount: 4, rejectedSyncs: 1 });
  // The merged percentiles cover both instances' samples: never below either instance's own p99.
  expect(fromA.latencyMs.p99).toBeGreaterThanOrEqual(
    Math.max(self.latencyMs.p99, other.latencyMs.p99) - 0.001,
  );

  const fromB = await metricsUntil(b, (m) => m.syncCount === 9);
  expect(fromB.instanceId).toBe(other.instanceId);
  expect(fromB.instances.map((i: AnyJson) => i.instanceId).sort()).toEqual(
    [self.instanceId, other.instanceId].sort(),
  );

  // ?scope=instance: the answering instance alone.
  const onlyA = (await apiA.get('/metrics?scope=instance')).body;
  expect(onlyA).toMatchObject({ scope: 'instance', syncCount: 5, instancesMerged: 1 });
  expect(onlyA.instances).toHaveLength(1);
});

test('an instance that stops is listed as stale and left out of the merged figures', async () => {
  const bId = (await client(b.baseUrl, ADMIN_KEY).get('/metrics?scope=instance')).body.instanceId;
  expect(await b.stop()).toBe(0);
  const after = await metricsUntil(a, (m) => m.instancesLeftOut === 1);
  expect(after).toMatchObject({ syncCount: 5, instancesMerged: 1, instancesLeftOut: 1 });
  const stale = after.instances.find((i: AnyJson) => i.instanceId === bId);
  // Its last snapshot (published when it stopped) is still listed, with its age.
  expect(stale).toMatchObject({ stale: true, syncCount: 4 });
  expect(stale.ageSeconds).toBeGreaterThanOrEqual(3); // stale: over 3 s (shown to 0.1 s)
});
