import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { METERED_OPERATIONS } from '../shared/http/metered';
import { route } from '../shared/http/route';

/** get_performance_metrics: this instance's sync and propagation figures, and store-wide event and state counts. */
export const metricsGet = route({ roles: ['admin', 'user', 'service'] }, async ({ services }) => {
  const events = services.eventMetrics.snapshot();
  return ok(
    {
      ...services.syncMetrics.snapshot(),
      eventCount: await services.events.count(),
      eventsPublished: events.published,
      publishFailures: events.publishFailures,
      propagationMs: events.propagationMs,
      stateSize: await services.state.size(),
      tokenUsage: services.tokens.metrics.snapshot(METERED_OPERATIONS),
    },
    { 'cache-control': 'no-store' },
  );
});

app.http('metrics-get', { methods: ['GET'], route: 'metrics', authLevel: 'anonymous', handler: metricsGet });
