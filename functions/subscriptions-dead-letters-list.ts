import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { subscriptionIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { deadLettersResponseSchema } from '../shared/http/response-schemas';

/** Webhook deliveries that exhausted their attempts or age; the subscription's owner or an admin only. */
export const subscriptionsDeadLettersList = route('subscriptions-dead-letters-list', {
  methods: ['GET'],
  route: 'subscriptions/{id}/dead-letters',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  params: z.object({ id: subscriptionIdParam }),
  summary: "A subscription's dead letters (404 unless the caller owns it or is an admin)",
  tags: ['subscriptions'],
  responses: { 200: deadLettersResponseSchema },
  handler: async ({ params, services, principal }) =>
    ok({
      subscriptionId: params.id,
      deadLetters: await services.webhooks.deadLettersFor(principal, params.id, 1000),
    }),
});
