import type { Clock } from '../ports/clock';
import { BRIDGE_METRICS, type Telemetry } from '../ports/telemetry';
import { EventMetrics } from './event-metrics';
import { SyncMetrics, type SyncOutcome } from './sync-metrics';

/**
 * Custom metrics without touching the services that produce them: drop-in subclasses of the
 * in-process metrics (the container builds these instead of the plain ones) and one-line helpers
 * for what the metrics classes do not see.
 */

/** SyncMetrics that also reports `bridge.sync.latency_ms` (dimension `outcome`). */
export class TelemetrySyncMetrics extends SyncMetrics {
  constructor(
    clock: Clock,
    private readonly telemetry: Telemetry,
  ) {
    super(clock);
  }

  override record(outcome: SyncOutcome, latencyMs: number): void {
    super.record(outcome, latencyMs);
    this.telemetry.trackMetric(BRIDGE_METRICS.syncLatencyMs, latencyMs, { outcome });
  }

  override recordDetail(detail: { conflicts: number; rejectedFields: number; writer: string }): void {
    this.telemetry.trackMetric(BRIDGE_METRICS.syncConflicts, detail.conflicts, { writer: detail.writer });
    this.telemetry.trackMetric(BRIDGE_METRICS.syncRejectedFields, detail.rejectedFields, {
      writer: detail.writer,
    });
  }
}

/** EventMetrics that also reports `bridge.propagation.latency_ms` per published event. */
export class TelemetryEventMetrics extends EventMetrics {
  constructor(private readonly telemetry: Telemetry) {
    super();
  }

  override recordPublished(latencyMs: number): void {
    super.recordPublished(latencyMs);
    this.telemetry.trackMetric(BRIDGE_METRICS.propagationLatencyMs, latencyMs);
  }
}

/** `bridge.provider.failovers`: one failover from one model provider to another. */
export function trackProviderFailover(telemetry: Telemetry, from: string, to: string, reason?: string): void {
  telemetry.trackMetric(BRIDGE_METRICS.providerFailovers, 1, { from, to, ...(reason ? { reason } : {}) });
}
