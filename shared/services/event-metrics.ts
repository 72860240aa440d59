import { LatencyHistogram } from '../domain/latency-histogram';

/**
 * Propagation latency and counts of this instance: commit → accepted by the bus (bus topic), or
 * commit → taken by every consumer (outbox topic).
 */
export class EventMetrics {
  private readonly propagation = new LatencyHistogram();
  private published = 0;
  private publishFailures = 0;
  private quarantined = 0;

  recordPublished(latencyMs: number): void {
    this.published += 1;
    this.propagation.recordMs(latencyMs);
  }

  recordFailure(): void {
    this.publishFailures += 1;
  }

  /** An event refused for a reason of its own, set aside instead of retried. */
  recordQuarantined(): void {
    this.quarantined += 1;
  }

  /** The raw figures, for the snapshot this instance publishes (histogram in compressed form). */
  exportParts(): { published: number; publishFailures: number; propagation: string } {
    return {
      published: this.published,
      publishFailures: this.publishFailures,
      propagation: this.propagation.encode(),
    };
  }

  snapshot() {
    const { p50, p95, p99 } = this.propagation.summary();
    return {
      published: this.published,
      publishFailures: this.publishFailures,
      quarantined: this.quarantined,
      propagationMs: { p50, p95, p99 },
    };
  }
}
