/**
 * ClusterMetricsService over one store: each instance publishes its snapshot (with a TTL), and
 * merged() combines this instance's live figures with every other's stored one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSqliteDocumentStore } from '../../../shared/adapters/embedded/sqlite-document-store';
import type { DocumentStore } from '../../../shared/ports/document-store';
import {
  ClusterMetricsService,
  METRICS_DOC_TYPE,
  METRICS_PARTITION,
} from '../../../shared/services/cluster-metrics-service';
import { EventMetrics } from '../../../shared/services/event-metrics';
import { SyncMetrics } from '../../../shared/services/sync-metrics';
import { TokenMetrics } from '../../../shared/services/token-service';
import { ManualClock } from '../../helpers/test-services';

let dir: string;
let store: DocumentStore;
let clock: ManualClock;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-cluster-'));
  clock = new ManualClock();
  store = openSqliteDocumentStore(dir, { clock });
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function instance(id: string) {
  const sync = new SyncMetrics(clock);
  const service = new ClusterMetricsService({
    store: store.collection('state'),
    clock,
    instanceId: id,
    sync,
    events: new EventMetrics(),
    tokens: new TokenMetrics(),
    tokenOperations: ['market'],
    options: { publishIntervalMs: 5000, staleAfterMs: 30_000, ttlSeconds: 600 },
    log: () => undefined,
  });
  return { sync, service };
}

describe('ClusterMetricsService', () => {
  it("merges this instance's live figures with the others' published snapshots", async () => {
    const a = instance('a');
    const b = instance('b');
    a.sync.record('succeeded', 2);
    b.sync.record('succeeded', 40);
    b.sync.record('failed', 50);
    await b.service.publish();
    a.sync.record('succeeded', 3); // not yet published: a's own figures are live
    const merged = await a.service.merged();
    expect(merged).toMatchObject({ syncCount: 4, failedSyncs: 1, merged: 2, instanceId: 'a', skipped: [] });
    expect(merged.instances.map((i) => [i.instanceId, i.self, i.syncCount])).toEqual([
      ['a', true, 2],
      ['b', false, 2],
    ]);
    expect((await a.service.merged({ instanceOnly: true })).syncCount).toBe(2);
  });

  it('an instance silent past the staleness limit is listed stale; past the TTL it is gone', async () => {
    const a = instance('a');
    const b = instance('b');
    b.sync.record('succeeded', 1);
    await b.service.publish();
    clock.advance(31_000);
    let merged = await a.service.merged();
    expect(merged).toMatchObject({ syncCount: 0, merged: 1, leftOut: 1 });
    expect(merged.instances[1]).toMatchObject({ instanceId: 'b', stale: true, ageSeconds: 31 });
    clock.advance(600_000);
    merged = await a.service.merged();
    expect(merged.instances.map((i) => i.instanceId)).toEqual(['a']);
  });

  it('a document that is not a snapshot is skipped, not fatal', async () => {
    await store.collection('state').upsert(METRICS_PARTITION, {
      id: 'x',
      type: METRICS_DOC_TYPE,
      body: { instanceId: 'x', nonsense: true },
    });
    const merged = await instance('a').service.merged();
    expect(merged).toMatchObject({ skipped: ['x'], merged: 1 });
  });

  it('start() publishes at once and on every interval; stop() publishes the final figures', async () => {
    jest.useFakeTimers({ doNotFake: ['performance', 'queueMicrotask', 'setImmediate', 'nextTick'] });
    try {
      const a = instance('a');
      a.service.start();
      await jest.advanceTimersByTimeAsync(0);
      const read = async () =>
        (await store.collection('state').read<{ sync: { count: number } }>(METRICS_PARTITION, 'a'))?.body.sync
          .count;
      expect(await read()).toBe(0);
      a.sync.record('succeeded', 1);
      await jest.advanceTimersByTimeAsync(5000);
      expect(await read()).toBe(1);
      a.sync.record('succeeded', 1);
      await a.service.stop();
      expect(await read()).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
