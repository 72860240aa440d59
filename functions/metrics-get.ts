import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** get_performance_metrics: this instance's sync counters and latency percentiles, and the shared state size. */
export const metricsGet = route({ roles: ['admin', 'user', 'service'] }, async ({ services }) =>
  ok(
    { ...services.syncMetrics.snapshot(), stateSize: await services.state.size() },
    { 'cache-control': 'no-store' },
  ),
);

app.http('metrics-get', { methods: ['GET'], route: 'metrics', authLevel: 'anonymous', handler: metricsGet });
