import { z } from 'zod';
import { accepted } from '../shared/http/http-response';
import { subscriptionIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { redeliverSchema } from '../shared/http/schemas';
import { redeliveredResponseSchema } from '../shared/http/response-schemas';

/** Puts dead letters (all, or `ids`) back on the delivery queue as fresh deliveries. */
export const subscriptionsDeadLettersRedeliver = route('subscriptions-dead-letters-redeliver', {
  methods: ['POST'],
  route: 'subscriptions/{id}/dead-letters/redeliver',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  params: z.object({ id: subscriptionIdParam }),
  body: redeliverSchema,
  bodyOptional: true,
  summary: "Redeliver a subscription's dead letters (404 unless the caller owns it or is an admin)",
  tags: ['subscriptions'],
  responses: { 202: redeliveredResponseSchema },
  handler: async ({ params, body, services, principal }) =>
    accepted({
      subscriptionId: params.id,
      requeued: await services.webhooks.redeliverFor(principal, params.id, body.ids),
    }),
});
