import { BRIDGE_METRICS, type Telemetry } from '../../../shared/ports/telemetry';
import {
  TelemetryEventMetrics,
  TelemetrySyncMetrics,
  trackProviderFailover,
} from '../../../shared/services/telemetry-instruments';
import { ManualClock } from '../../helpers/test-services';

function recordingTelemetry() {
  const metrics: { name: string; value: number; properties?: Record<string, unknown> }[] = [];
  const telemetry: Telemetry = {
    enabled: true,
    trackMetric: (name, value, properties) =>
      metrics.push({ name, value, ...(properties ? { properties } : {}) }),
    trackEvent: () => undefined,
    trackException: () => undefined,
    flush: async () => undefined,
    close: async () => undefined,
  };
  return { telemetry, metrics };
}

describe('telemetry instruments', () => {
  it('TelemetrySyncMetrics keeps the in-process snapshot and reports bridge.sync.latency_ms', () => {
    const { telemetry, metrics } = recordingTelemetry();
    const sync = new TelemetrySyncMetrics(new ManualClock(), telemetry);
    sync.record('succeeded', 12);
    sync.record('rejected', 3);
    expect(sync.snapshot()).toMatchObject({ syncCount: 2, rejectedSyncs: 1 });
    expect(metrics).toEqual([
      { name: BRIDGE_METRICS.syncLatencyMs, value: 12, properties: { outcome: 'succeeded' } },
      { name: BRIDGE_METRICS.syncLatencyMs, value: 3, properties: { outcome: 'rejected' } },
    ]);
  });

  it('TelemetryEventMetrics reports bridge.propagation.latency_ms per published event', () => {
    const { telemetry, metrics } = recordingTelemetry();
    const events = new TelemetryEventMetrics(telemetry);
    events.recordPublished(40);
    events.recordFailure();
    expect(events.snapshot()).toMatchObject({ published: 1, publishFailures: 1 });
    expect(metrics).toEqual([{ name: BRIDGE_METRICS.propagationLatencyMs, value: 40 }]);
  });

  it('sync results and provider failovers', () => {
    const { telemetry, metrics } = recordingTelemetry();
    new TelemetrySyncMetrics({ now: () => 0 }, telemetry).recordDetail({
      conflicts: 1,
      rejectedFields: 2,
      writer: 'user',
    });
    trackProviderFailover(telemetry, 'openai', 'groq', 'rate-limited');
    expect(metrics).toEqual([
      { name: 'bridge.sync.conflicts', value: 1, properties: { writer: 'user' } },
      { name: 'bridge.sync.rejected_fields', value: 2, properties: { writer: 'user' } },
      {
        name: 'bridge.provider.failovers',
        value: 1,
        properties: { from: 'openai', to: 'groq', reason: 'rate-limited' },
      },
    ]);
  });
});
