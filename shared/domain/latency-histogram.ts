// The packed JS histogram alone: the package's index also loads its WebAssembly build, ~5 MB of
// resident memory that a bridge recording a few latencies does not need.
import PackedHistogram from 'hdr-histogram-js/dist/PackedHistogram';

export interface LatencySummary {
  count: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Latency percentiles from an HDR histogram (microsecond resolution, 3 significant digits,
 * up to 10 minutes), reported in milliseconds. Percentiles, not a moving average, because
 * tail latency is what a portal user feels.
 */
export class LatencyHistogram {
  private readonly histogram = new PackedHistogram(1, 600_000_000, 3);

  recordMs(ms: number): void {
    const micros = Math.min(600_000_000, Math.max(1, Math.round(ms * 1000)));
    this.histogram.recordValue(micros);
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const ms = (micros: number) => Math.round(micros) / 1000;
    if (h.totalCount === 0) return { count: 0, avg: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    return {
      count: h.totalCount,
      avg: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
      max: ms(h.maxValue),
    };
  }
}
