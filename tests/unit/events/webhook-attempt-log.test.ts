import { SqliteDocumentStore } from '../../../shared/adapters/embedded/sqlite-document-store';
import { StoreError, type DocumentStore } from '../../../shared/ports/document-store';
import {
  MAX_ATTEMPTS_KEPT,
  MAX_QUEUED_ATTEMPTS,
  PRUNE_EVERY,
  WebhookAttemptLog,
  type DeliveryAttempt,
} from '../../../shared/services/webhook-attempt-log';

const T0 = Date.parse('2026-11-30T10:00:00Z');
const attempt = (i: number): DeliveryAttempt => ({
  at: new Date(T0 + i * 1000).toISOString(),
  eventId: `evt-${i}`,
  status: 200,
  durationMs: 1,
  attempt: 1,
});

describe('WebhookAttemptLog', () => {
  let store: DocumentStore;
  beforeEach(() => {
    store = new SqliteDocumentStore({ path: ':memory:', purgeIntervalMs: 0 });
  });
  afterEach(() => store.close());

  const stored = async (subscriptionId: string) =>
    store.count('webhooks', { pk: `webhook-attempts:${subscriptionId}`, type: 'webhook-attempt' });

  it('lists the newest attempts first and prunes beyond the newest MAX_ATTEMPTS_KEPT every PRUNE_EVERY writes', async () => {
    const log = new WebhookAttemptLog(store.collection('webhooks'), 3600);
    const total = MAX_ATTEMPTS_KEPT + PRUNE_EVERY * 2 - 1;
    for (let i = 0; i < total; i++) await log.record('sub-a', attempt(i));
    // Two prunes ran (at PRUNE_EVERY and 2 × PRUNE_EVERY writes); PRUNE_EVERY - 1 written since.
    expect(await stored('sub-a')).toBe(MAX_ATTEMPTS_KEPT + PRUNE_EVERY - 1);
    const newest = await log.newest('sub-a', 5_000);
    expect(newest).toHaveLength(MAX_ATTEMPTS_KEPT);
    expect(newest[0]?.eventId).toBe(`evt-${total - 1}`);
    expect(newest.at(-1)?.eventId).toBe(`evt-${total - MAX_ATTEMPTS_KEPT}`);

    await log.record('sub-a', attempt(total));
    // This write was the next multiple of PRUNE_EVERY: everything beyond the newest 1000 is gone.
    expect(await stored('sub-a')).toBe(MAX_ATTEMPTS_KEPT);
    expect((await log.newest('sub-a', 1))[0]?.eventId).toBe(`evt-${total}`);
  });

  it('prunes one by one when a delete batch meets an attempt another instance already pruned', async () => {
    const collection = store.collection('webhooks');
    let refused = 0;
    const log = new WebhookAttemptLog(
      {
        ...collection,
        batch: async (pk, operations) => {
          if (operations.every((o) => o.op === 'delete')) {
            refused += 1;
            // Another instance deleted the first one meanwhile: the batch fails as a whole.
            await collection.delete(pk, operations[0]?.id ?? '');
            throw new StoreError('not-found', 'document not found', undefined, 0);
          }
          return collection.batch(pk, operations);
        },
      },
      3600,
    );
    for (let i = 0; i < MAX_ATTEMPTS_KEPT + PRUNE_EVERY * 2; i++) await log.record('sub-a', attempt(i));
    expect(refused).toBeGreaterThan(0);
    expect(await stored('sub-a')).toBe(MAX_ATTEMPTS_KEPT);
  });

  it("writes a turn's attempts together, one transaction per subscription and 100 attempts; a delivery need not wait", async () => {
    const collection = store.collection('webhooks');
    const batches: number[] = [];
    const log = new WebhookAttemptLog(
      {
        ...collection,
        batch: (pk, operations) => {
          batches.push(operations.length);
          return collection.batch(pk, operations);
        },
      },
      3600,
    );
    // Recorded in one turn, nobody waiting: queued, nothing written yet.
    for (let i = 0; i < 250; i++) void log.record('sub-a', attempt(i));
    for (let i = 0; i < 3; i++) void log.record('sub-b', attempt(1000 + i));
    expect(batches).toEqual([]);
    await log.flush();
    expect(batches.sort((x, y) => x - y)).toEqual([3, 50, 100, 100]);
    expect(await stored('sub-a')).toBe(250);
    expect((await log.newest('sub-b', 10)).map((a) => a.eventId)).toEqual([
      'evt-1002',
      'evt-1001',
      'evt-1000',
    ]);
  });

  it('a store that fails or stalls costs records, never a delivery: failures are logged, the queue is bounded', async () => {
    const collection = store.collection('webhooks');
    const logged: string[] = [];
    let failing = true;
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let stall = false;
    let created = 0;
    const log = new WebhookAttemptLog(
      {
        ...collection,
        batch: async (pk, operations) => {
          if (failing) throw new StoreError('unavailable', 'the store is down', undefined, 0);
          if (stall) await stalled;
          const results = await collection.batch(pk, operations);
          created += operations.filter((o) => o.op === 'create').length;
          return results;
        },
      },
      3600,
      (message) => logged.push(message),
    );
    await expect(log.record('sub-a', attempt(0))).resolves.toBeUndefined();
    expect(logged).toEqual([expect.stringContaining('recording 1 attempt(s) failed')]);
    expect(await stored('sub-a')).toBe(0);

    failing = false;
    stall = true;
    const first = log.record('sub-a', attempt(1));
    await new Promise((resolve) => setImmediate(resolve));
    // The first write hangs; meanwhile at most MAX_QUEUED_ATTEMPTS wait, the rest are dropped at once.
    const waiting = Array.from({ length: MAX_QUEUED_ATTEMPTS + 5 }, (_, i) =>
      log.record('sub-a', attempt(2 + i)),
    );
    await Promise.all(waiting.slice(MAX_QUEUED_ATTEMPTS));
    release();
    await first;
    await log.flush();
    expect(created).toBe(1 + MAX_QUEUED_ATTEMPTS);
    // (pruned meanwhile to the newest MAX_ATTEMPTS_KEPT, as always)
    expect(await stored('sub-a')).toBe(MAX_ATTEMPTS_KEPT);
    expect(logged.at(-1)).toBe(
      'webhook attempt log: 5 attempt(s) not recorded (the store is not keeping up)',
    );
  });

  it("keeps each subscription's log apart", async () => {
    const log = new WebhookAttemptLog(store.collection('webhooks'), 3600);
    for (let i = 0; i < 3; i++) await log.record('sub-a', attempt(i));
    await log.record('sub-b', attempt(100));
    expect((await log.newest('sub-a', 10)).map((a) => a.eventId)).toEqual(['evt-2', 'evt-1', 'evt-0']);
    expect((await log.newest('sub-b', 10)).map((a) => a.eventId)).toEqual(['evt-100']);
  });

  it("stores a batched POST's attempts as one record and lists them as one entry per event", async () => {
    const log = new WebhookAttemptLog(store.collection('webhooks'), 3600);
    await log.record('sub-c', attempt(1));
    const batch = [2, 3, 4].map((i) => ({ ...attempt(5), eventId: `evt-${i}`, batchSize: 3 }));
    await log.record('sub-c', batch);
    await log.record('sub-c', attempt(9));
    expect(await stored('sub-c')).toBe(3);
    expect((await log.newest('sub-c', 10)).map((a) => [a.eventId, a.batchSize])).toEqual([
      ['evt-9', undefined],
      ['evt-2', 3],
      ['evt-3', 3],
      ['evt-4', 3],
      ['evt-1', undefined],
    ]);
    // `limit` counts entries, not records.
    expect((await log.newest('sub-c', 2)).map((a) => a.eventId)).toEqual(['evt-9', 'evt-2']);
  });
});
