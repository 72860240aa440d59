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

  snapshot() {
    const { p50, p95, p99 } = this.propagation.summary();
    return {
      published: this.published,
      publishFailures: this.publishFailures,
      propagationMs: { p50, p95, p99 },
    };
  }
}
