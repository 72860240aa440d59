import {
  mergeInstanceSnapshots,
  successRateOf,
  type InstanceSnapshot,
} from '../../../shared/domain/instance-metrics';
import { LatencyHistogram } from '../../../shared/domain/latency-histogram';
import PackedHistogram from 'hdr-histogram-js/dist/PackedHistogram';
import 'hdr-histogram-js/dist/JsHistogram.encoding';

const NOW = Date.parse('2026-01-01T00:10:00.000Z');

function histogram(samplesMs: number[]): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const ms of samplesMs) h.recordMs(ms);
  return h;
}

function snapshot(
  instanceId: string,
  samplesMs: number[],
  overrides: Partial<InstanceSnapshot> & { failed?: number; rejected?: number } = {},
): InstanceSnapshot {
  const { failed = 0, rejected = 0, ...rest } = overrides;
  return {
    instanceId,
    startedAt: NOW - 60_000,
    publishedAt: NOW - 1000,
    sync: { count: samplesMs.length + rejected, failed, rejected, latency: histogram(samplesMs).encode() },
    events: { published: samplesMs.length, publishFailures: 0, propagation: histogram(samplesMs).encode() },
    tokens: {
      operations: { market: { charges: 1, tokens: 7, replays: 0, refused: 0 } },
      grants: { count: 0, tokens: 0 },
    },
    ...rest,
  };
}

const options = { now: NOW, staleAfterMs: 30_000, selfId: 'a' };

describe('latency histograms travel between instances', () => {
  it('an encoded histogram decodes to the same percentiles, and merging adds samples exactly', () => {
    const a = histogram([1, 2, 3, 4, 100]);
    const b = histogram([5, 6, 7, 8, 900]);
    // Percentiles survive exactly; the maximum comes back as its bucket's upper bound.
    const percentiles = (h: LatencyHistogram) => {
      const { max: _max, ...rest } = h.summary();
      return rest;
    };
    const decoded = LatencyHistogram.decode(a.encode());
    expect(percentiles(decoded)).toEqual(percentiles(a));
    decoded.merge(LatencyHistogram.decode(b.encode()));
    expect(percentiles(decoded)).toEqual(percentiles(histogram([1, 2, 3, 4, 100, 5, 6, 7, 8, 900])));
    expect(decoded.count).toBe(10);
  });

  it('anything that is not an encoded histogram is refused', () => {
    expect(() => LatencyHistogram.decode('not base64!')).toThrow(RangeError);
    expect(() => LatencyHistogram.decode('AAAA')).toThrow(RangeError);
    expect(() => LatencyHistogram.decode('A'.repeat(300_000))).toThrow(RangeError);
  });

  it('a histogram of another layout is refused before anything is allocated from its header', () => {
    // A decoded histogram is dense, sized by the header: 5 digits up to 2^40 would be 25 MB.
    const wide = new PackedHistogram(1, 2 ** 40, 5);
    wide.recordValue(1_000);
    expect(() => LatencyHistogram.decode(wide.encodeIntoCompressedBase64())).toThrow(/unexpected layout/);
    const finer = new PackedHistogram(1, 600_000_000, 4);
    finer.recordValue(1_000);
    expect(() => LatencyHistogram.decode(finer.encodeIntoCompressedBase64())).toThrow(RangeError);
    // The previous release recorded into packed histograms of the same layout: those still decode.
    const previous = new PackedHistogram(1, 600_000_000, 3);
    for (const micros of [1_000, 2_000, 900_000]) previous.recordValue(micros);
    const decoded = LatencyHistogram.decode(previous.encodeIntoCompressedBase64());
    const summary = decoded.summary();
    expect(summary).toMatchObject({ count: 3, p50: 2 });
    expect(Math.abs(summary.max - 900) / 900).toBeLessThan(0.001); // 3 significant digits
  });
});

describe('mergeInstanceSnapshots', () => {
  it('sums counters and merges histograms over the live instances', () => {
    const merged = mergeInstanceSnapshots(
      [snapshot('a', [1, 2, 3]), snapshot('b', [10, 20, 30, 40], { failed: 1, rejected: 2 })],
      options,
    );
    expect(merged).toMatchObject({
      syncCount: 9,
      failedSyncs: 1,
      rejectedSyncs: 2,
      successRate: successRateOf(9, 2, 1),
      eventsPublished: 7,
      merged: 2,
      leftOut: 0,
      since: new Date(NOW - 60_000).toISOString(),
    });
    // The merged p99 is that of all seven samples, not an average of the two instances' p99.
    expect(merged.latencyMs.p99).toBe(histogram([1, 2, 3, 10, 20, 30, 40]).summary().p99);
    expect(merged.latencyMs.p50).toBe(histogram([1, 2, 3, 10, 20, 30, 40]).summary().p50);
    expect(merged.tokenUsage.operations.market).toEqual({ charges: 2, tokens: 14, replays: 0, refused: 0 });
    expect(merged.instances.map((i) => [i.instanceId, i.self, i.stale])).toEqual([
      ['a', true, false],
      ['b', false, false],
    ]);
    expect(merged.instances[1]).toMatchObject({ syncCount: 6, failedSyncs: 1, ageSeconds: 1 });
  });

  it('lists a stale instance but leaves its figures out; the answering instance is never stale', () => {
    const merged = mergeInstanceSnapshots(
      [
        snapshot('a', [1], { publishedAt: NOW - 600_000 }),
        snapshot('b', [5, 5]),
        snapshot('c', [999], { publishedAt: NOW - 31_000 }),
      ],
      options,
    );
    expect(merged.syncCount).toBe(3);
    expect(merged.latencyMs.p99).toBeLessThan(10);
    expect(merged).toMatchObject({ merged: 2, leftOut: 1 });
    const c = merged.instances.find((i) => i.instanceId === 'c');
    expect(c).toMatchObject({ stale: true, ageSeconds: 31, syncCount: 1 });
    expect(merged.instances.find((i) => i.instanceId === 'a')?.stale).toBe(false);
  });

  it('an unreadable snapshot is listed as such and left out, not fatal', () => {
    const bad = snapshot('b', [1]);
    bad.sync.latency = 'garbage!';
    const merged = mergeInstanceSnapshots([snapshot('a', [2]), bad], options);
    expect(merged).toMatchObject({ syncCount: 1, merged: 1, leftOut: 1 });
    expect(merged.instances[1]?.unreadable).toMatch(/not an encoded histogram/);
  });

  it('with no samples anywhere the figures are zero and the health is NO_DATA', () => {
    const merged = mergeInstanceSnapshots([snapshot('a', [])], options);
    expect(merged).toMatchObject({ syncCount: 0, successRate: null, syncHealth: 'NO_DATA' });
    expect(merged.latencyMs).toEqual({ avg: 0, p50: 0, p95: 0, p99: 0 });
  });
});
