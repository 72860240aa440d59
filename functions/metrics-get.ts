import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { METERED_OPERATIONS } from '../shared/services/metering-service';

/** get_performance_metrics: this instance's sync and propagation figures, and store-wide event and state counts. */
export const metricsGet = route('metrics-get', {
  methods: ['GET'],
  route: 'metrics',
  access: { roles: ['admin', 'user', 'service'] },
  summary: "get_performance_metrics: this instance's sync, propagation and token figures",
  tags: ['metrics'],
  handler: async ({ services }) => {
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
  },
});
