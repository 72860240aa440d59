import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { subscriptionsResponseSchema } from '../shared/http/response-schemas';

/** The caller's subscriptions (an admin sees all), without secrets. */
export const subscriptionsList = route('subscriptions-list', {
  methods: ['GET'],
  route: 'subscriptions',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  summary: "The calling key's subscriptions (an admin sees all), without secrets",
  tags: ['subscriptions'],
  responses: { 200: subscriptionsResponseSchema },
  handler: async ({ services, principal }) => ok({ subscriptions: await services.webhooks.list(principal) }),
});
