import { healthBand } from '../domain/health-band';
import { successRateOf } from '../domain/instance-metrics';
import { LatencyHistogram } from '../domain/latency-histogram';
import type { Clock } from '../ports/clock';

export type SyncOutcome = 'succeeded' | 'rejected' | 'failed';

/**
 * Counters and latency histogram of this instance since it started. `failedSyncs` are server-side
 * failures; `rejectedSyncs` are requests refused for the client's reasons (4xx), which do not lower
 * the success rate. successRate = (syncCount − rejected − failed) / (syncCount − rejected).
 */
export class SyncMetrics {
  private syncCount = 0;
  private failedSyncs = 0;
  private rejectedSyncs = 0;
  private readonly latency = new LatencyHistogram();
  private readonly since: string;
  /** Epoch ms when these counters started. */
  readonly startedAt: number;

  constructor(clock: Clock) {
    this.startedAt = clock.now();
    this.since = new Date(this.startedAt).toISOString();
  }

  record(outcome: SyncOutcome, latencyMs: number): void {
    this.syncCount += 1;
    if (outcome === 'failed') this.failedSyncs += 1;
    else if (outcome === 'rejected') this.rejectedSyncs += 1;
    if (outcome !== 'rejected') this.latency.recordMs(latencyMs);
  }

  /** Per-sync detail (conflicts, rejected fields); kept by telemetry, not by the in-process counters. */
  recordDetail(_detail: { conflicts: number; rejectedFields: number; writer: string }): void {}

  /** The raw figures, for the snapshot this instance publishes (histogram in compressed form). */
  exportParts(): { count: number; failed: number; rejected: number; latency: string } {
    return {
      count: this.syncCount,
      failed: this.failedSyncs,
      rejected: this.rejectedSyncs,
      latency: this.latency.encode(),
    };
  }

  snapshot() {
    const successRate = successRateOf(this.syncCount, this.rejectedSyncs, this.failedSyncs);
    const { avg, p50, p95, p99 } = this.latency.summary();
    return {
      syncCount: this.syncCount,
      failedSyncs: this.failedSyncs,
      rejectedSyncs: this.rejectedSyncs,
      successRate,
      latencyMs: { avg, p50, p95, p99 },
      syncHealth: healthBand(successRate),
      since: this.since,
    };
  }
}
