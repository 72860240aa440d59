import { z } from 'zod';
import { accepted } from '../shared/http/http-response';
import { subscriptionIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { recoverSchema } from '../shared/http/schemas';
import { redeliveredResponseSchema } from '../shared/http/response-schemas';

/**
 * Re-sends every matching event committed since `since` (from the replay log) as fresh deliveries;
 * at most 10,000 events (more is a 422 and nothing is sent).
 */
export const subscriptionsRecover = route('subscriptions-recover', {
  methods: ['POST'],
  route: 'subscriptions/{id}/recover',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  params: z.object({ id: subscriptionIdParam }),
  body: recoverSchema,
  summary: 'Re-send the events a subscription matches committed since a time (404 unless owner or admin)',
  tags: ['subscriptions'],
  responses: { 202: redeliveredResponseSchema },
  handler: async ({ params, body, services, principal }) =>
    accepted({
      subscriptionId: params.id,
      requeued: await services.webhooks.recoverFor(principal, params.id, body.since),
    }),
});
