/**
 * e2e: every acknowledged write survives `kill -9` of the host, and SIGTERM stops it cleanly.
 */
import { cleanupLocalHosts, makeTempDataDir, startLocalHostProcess } from '../helpers/local-host-process';
import { call, client } from './client';

afterAll(cleanupLocalHosts);

interface Ack {
  userId: string;
  field: string;
  value: string;
  version: number;
}

const TOTAL_WRITES = 300;
const CONCURRENCY = 8;
const KILL_AFTER_ACKS = 150;
const USERS = ['durable-a', 'durable-b', 'durable-c'];

test('every write acknowledged before kill -9 is there after a restart on the same data dir', async () => {
  const dataDir = makeTempDataDir();
  const first = await startLocalHostProcess({ dataDir });
  const acks: Ack[] = [];
  const failures: string[] = [];
  let next = 0;
  let killed: Promise<void> | undefined;

  // CONCURRENCY writers share one counter of TOTAL_WRITES writes; each write sets a new field.
  const writer = async () => {
    while (next < TOTAL_WRITES) {
      const n = next++;
      const userId = USERS[n % USERS.length] as string;
      const field = `f_${n}`;
      const value = `v-${n}-${'x'.repeat(n % 50)}`;
      try {
        const res = await call(first.baseUrl, 'POST', `/users/${userId}/sync`, {
          key: first.adminKey,
          json: { data: { [field]: value } },
        });
        if (res.status !== 200) {
          failures.push(`${field}: ${res.status}`);
          continue;
        }
        acks.push({ userId, field, value, version: res.body.version as number });
      } catch {
        // Connection refused or reset: the host is gone; this write was never acknowledged.
        failures.push(`${field}: no answer`);
      }
      if (acks.length >= KILL_AFTER_ACKS && !killed) killed = first.kill9();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, writer));
  await killed;

  expect(first.child.signalCode).toBe('SIGKILL');
  // The kill really came mid-run: some writes were acknowledged, some were cut off or refused.
  expect(acks.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
  expect(acks.length).toBeLessThan(TOTAL_WRITES);
  expect(failures.every((f) => f.endsWith('no answer'))).toBe(true);

  const second = await startLocalHostProcess({ dataDir });
  expect(second.adminKey).toBe(first.adminKey); // read back from <dataDir>/admin-key
  const admin = client(second.baseUrl, second.adminKey);
  const profiles = new Map<string, { version: number; data: Record<string, unknown> }>();
  for (const userId of USERS) {
    const res = await admin.get(`/users/${userId}`);
    expect(res.status).toBe(200);
    profiles.set(userId, res.body);
  }
  const lost = acks.filter((ack) => {
    const profile = profiles.get(ack.userId);
    return !profile || profile.data[ack.field] !== ack.value || profile.version < ack.version;
  });
  expect(lost).toEqual([]);

  // The restarted host takes writes again where the data left off.
  const after = await admin.post(`/users/${USERS[0]}/sync`, { data: { restarted: true } });
  expect(after.status).toBe(200);
  expect(after.body.version).toBe((profiles.get(USERS[0] as string)?.version ?? 0) + 1);
  expect(await second.stop()).toBe(0);
});

test('SIGTERM stops the host cleanly: exit code 0, and the data is kept', async () => {
  const host = await startLocalHostProcess();
  const admin = client(host.baseUrl, host.adminKey);
  expect((await admin.post('/users/graceful/sync', { data: { a: 1 } })).status).toBe(200);

  const code = await host.stop();
  expect(code).toBe(0);
  expect(host.child.signalCode).toBeNull();
  expect(host.output()).toMatch(/SIGTERM received/);
  await expect(fetch(`${host.baseUrl}/health`)).rejects.toThrow();

  const again = await startLocalHostProcess({ dataDir: host.dataDir });
  const read = await client(again.baseUrl, again.adminKey).get('/users/graceful');
  expect(read.body.data).toEqual({ a: 1 });
  expect(await again.stop()).toBe(0);
});
