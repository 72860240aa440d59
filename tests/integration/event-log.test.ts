/**
 * The event-log contract (tests/contract/event-log.contract.ts) over the embedded store (one feed
 * range: plain sequence cursors) and over partitioned stores modelled after a multi-partition
 * Cosmos DB container (several feed ranges with independent LSNs, splits).
 */
import { SqliteDocumentStore } from '../../shared/adapters/embedded/sqlite-document-store';
import { describeEventLogContract } from '../contract/event-log.contract';
import { RangedMemoryStore } from '../helpers/ranged-store';

describeEventLogContract('embedded store (one range, sequence cursors)', async (clock) => {
  const store = new SqliteDocumentStore({ path: ':memory:', clock, purgeIntervalMs: 0 });
  return { store, cleanup: () => store.close() };
});

describeEventLogContract('partitioned store, 4 feed ranges', async (clock) => {
  const store = new RangedMemoryStore(4, clock);
  return { store, split: (container, pk) => store.split(container, pk), cleanup: () => store.close() };
});

describeEventLogContract('partitioned store, 1 feed range (opaque cursors)', async (clock) => {
  const store = new RangedMemoryStore(1, clock);
  return { store, split: (container, pk) => store.split(container, pk), cleanup: () => store.close() };
});
