import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { subscriptionIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { subscriptionResponseSchema } from '../shared/http/response-schemas';

/** Re-enables a (disabled) subscription and resets its failure clock. */
export const subscriptionsEnable = route('subscriptions-enable', {
  methods: ['POST'],
  route: 'subscriptions/{id}/enable',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  params: z.object({ id: subscriptionIdParam }),
  summary: 'Re-enable a subscription and reset its failure clock (404 unless owner or admin)',
  tags: ['subscriptions'],
  responses: { 200: subscriptionResponseSchema },
  handler: async ({ params, services, principal }) =>
    ok(await services.webhooks.enable(principal, params.id)),
});
