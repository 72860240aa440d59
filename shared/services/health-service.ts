import type { Clock } from '../ports/clock';
import type { DocumentStore } from '../ports/document-store';

export interface HealthReport {
  status: 'ok' | 'degraded';
  uptimeSeconds: number;
  checks: { store: { ok: boolean; latencyMs: number; error?: string } };
}

export class HealthService {
  private readonly startedAt: number;

  constructor(
    private readonly store: DocumentStore,
    private readonly clock: Clock,
  ) {
    this.startedAt = clock.now();
  }

  async check(): Promise<HealthReport> {
    const started = performance.now();
    let error: string | undefined;
    try {
      await this.store.ping();
    } catch (e) {
      error = (e as Error).message;
    }
    const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    return {
      status: error ? 'degraded' : 'ok',
      uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000),
      checks: { store: { ok: !error, latencyMs, ...(error ? { error } : {}) } },
    };
  }
}
