import { LatencyHistogram } from '../domain/latency-histogram';

/** Propagation (commit → accepted by the bus) latency and counts of this instance. */
export class EventMetrics {
  private readonly propagation = new LatencyHistogram();
  private published = 0;
  private publishFailures = 0;

  recordPublished(latencyMs: number): void {
    this.published += 1;
    this.propagation.recordMs(latencyMs);
  }

  recordFailure(): void {
    this.publishFailures += 1;
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
      propagationMs: { p50, p95, p99 },
    };
  }
}
