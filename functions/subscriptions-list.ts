import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

export const subscriptionsList = route({ roles: ['admin', 'user', 'service'] }, async ({ services }) =>
  ok({ subscriptions: await services.webhooks.list() }),
);

app.http('subscriptions-list', {
  methods: ['GET'],
  route: 'subscriptions',
  authLevel: 'anonymous',
  handler: subscriptionsList,
});
