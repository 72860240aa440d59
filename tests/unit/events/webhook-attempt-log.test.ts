import { SqliteDocumentStore } from '../../../shared/adapters/embedded/sqlite-document-store';
import { StoreError, type DocumentStore } from '../../../shared/ports/document-store';
import {
  MAX_ATTEMPTS_KEPT,
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

  it("keeps each subscription's log apart", async () => {
    const log = new WebhookAttemptLog(store.collection('webhooks'), 3600);
    for (let i = 0; i < 3; i++) await log.record('sub-a', attempt(i));
    await log.record('sub-b', attempt(100));
    expect((await log.newest('sub-a', 10)).map((a) => a.eventId)).toEqual(['evt-2', 'evt-1', 'evt-0']);
    expect((await log.newest('sub-b', 10)).map((a) => a.eventId)).toEqual(['evt-100']);
  });
});
