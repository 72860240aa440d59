import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { metricsResponseSchema } from '../shared/http/response-schemas';
import { route } from '../shared/http/route';

/**
 * get_performance_metrics: sync and propagation figures merged over every live instance (each
 * publishes a snapshot to the store; see ClusterMetricsService), with each instance listed, and
 * store-wide event and state counts. `?scope=instance`: the answering instance alone.
 */
export const metricsGet = route('metrics-get', {
  methods: ['GET'],
  route: 'metrics',
  access: { roles: ['admin', 'user', 'service'], scope: 'monitoring' },
  query: z.object({ scope: z.enum(['cluster', 'instance']).optional() }),
  summary: 'get_performance_metrics: sync, propagation and token figures merged over the live instances',
  tags: ['metrics'],
  responses: { 200: metricsResponseSchema },
  handler: async ({ services, query }) => {
    const scope = query.scope ?? 'cluster';
    const m = await services.clusterMetrics.merged({ instanceOnly: scope === 'instance' });
    return ok(
      {
        syncCount: m.syncCount,
        failedSyncs: m.failedSyncs,
        rejectedSyncs: m.rejectedSyncs,
        successRate: m.successRate,
        latencyMs: m.latencyMs,
        syncHealth: m.syncHealth,
        since: m.since,
        eventCount: await services.events.count(),
        eventsPublished: m.eventsPublished,
        publishFailures: m.publishFailures,
        propagationMs: m.propagationMs,
        stateSize: await services.state.size(),
        tokenUsage: m.tokenUsage,
        scope,
        instanceId: m.instanceId,
        instancesMerged: m.merged,
        instancesLeftOut: m.leftOut,
        publishIntervalSeconds: m.publishIntervalSeconds,
        staleAfterSeconds: m.staleAfterSeconds,
        instances: m.instances,
        // Event streams are connections held by one instance: this instance's figures, not merged.
        streams: services.streams.stats(),
      },
      { 'cache-control': 'no-store' },
    );
  },
});
