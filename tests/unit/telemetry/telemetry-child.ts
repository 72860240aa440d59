/**
 * Child process for the Application Insights test (run through register-ts.js, so the fake
 * ingestion endpoint's certificate can be trusted with NODE_EXTRA_CA_CERTS at start-up).
 * Records a fixed set of telemetry through createTelemetry, closes it, and prints the warnings.
 */
import { createTelemetry } from '../../../shared/adapters/azure/app-insights-telemetry';
import {
  BRIDGE_METRICS,
  operationFromTraceParent,
  runWithTelemetryOperation,
} from '../../../shared/ports/telemetry';

async function main(): Promise<void> {
  const warnings: string[] = [];
  const credential = process.env.TEST_STUB_TOKEN
    ? {
        getToken: async () => ({
          token: process.env.TEST_STUB_TOKEN as string,
          expiresOnTimestamp: Date.now() + 3600_000,
        }),
      }
    : undefined;
  const telemetry = createTelemetry(
    process.env.TEST_CONNECTION_STRING,
    (m) => warnings.push(m),
    credential ? { credential } : {},
  );
  const operation = operationFromTraceParent(process.env.TEST_TRACEPARENT);
  await runWithTelemetryOperation(operation, async () => {
    await Promise.resolve(); // the operation survives awaits
    telemetry.trackEvent('bridge.test.event', { userId: 'ann', attempt: 2 }, { bytes: 42 });
    telemetry.trackMetric(BRIDGE_METRICS.syncLatencyMs, 12, { outcome: 'succeeded' });
    telemetry.trackMetric(BRIDGE_METRICS.syncLatencyMs, 20, { outcome: 'succeeded' });
    telemetry.trackMetric(BRIDGE_METRICS.syncConflicts, 1, { writer: 'admin' });
    telemetry.trackException(new Error('boom'), { where: 'test' });
  });
  telemetry.trackEvent('bridge.test.outside');
  telemetry.trackMetric(BRIDGE_METRICS.propagationLatencyMs, Number.NaN);
  await telemetry.close();
  process.stdout.write(JSON.stringify({ enabled: telemetry.enabled, warnings }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
