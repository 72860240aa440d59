import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** The caller's subscriptions (an admin sees all), without secrets. */
export const subscriptionsList = route('subscriptions-list', {
  methods: ['GET'],
  route: 'subscriptions',
  access: { roles: ['admin', 'user', 'service'] },
  summary: "The calling key's subscriptions (an admin sees all), without secrets",
  tags: ['subscriptions'],
  handler: async ({ services, principal }) => ok({ subscriptions: await services.webhooks.list(principal) }),
});
