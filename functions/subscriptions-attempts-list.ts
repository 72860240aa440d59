import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { intQuery, subscriptionIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { attemptsResponseSchema } from '../shared/http/response-schemas';

/** A subscription's delivery attempts, newest first (the newest 1000 are kept, for the event retention). */
export const subscriptionsAttemptsList = route('subscriptions-attempts-list', {
  methods: ['GET'],
  route: 'subscriptions/{id}/attempts',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  params: z.object({ id: subscriptionIdParam }),
  query: z.object({ limit: intQuery(1, 1000).optional() }),
  summary: "A subscription's delivery attempts, newest first (404 unless the caller owns it or is an admin)",
  tags: ['subscriptions'],
  responses: { 200: attemptsResponseSchema },
  handler: async ({ params, query, services, principal }) =>
    ok({
      subscriptionId: params.id,
      attempts: await services.webhooks.attemptsFor(principal, params.id, query.limit ?? 100),
    }),
});
