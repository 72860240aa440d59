import { app } from '@azure/functions';
import { created } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { subscriptionCreateSchema } from '../shared/http/schemas';

/** subscribe_to_events: a signed webhook for chosen event types; the secret is shown only here. */
export const subscriptionsCreate = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services, principal }) => {
    const body = await readJsonBody(request, subscriptionCreateSchema, services.config.http.maxBodyBytes);
    const subscription = await services.webhooks.subscribe(body.eventTypes, body.url, principal.keyId);
    return created(subscription, {
      location: `/api/subscriptions/${subscription.id}`,
      'cache-control': 'no-store',
    });
  },
);

app.http('subscriptions-create', {
  methods: ['POST'],
  route: 'subscriptions',
  authLevel: 'anonymous',
  handler: subscriptionsCreate,
});
