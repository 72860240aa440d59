import { created } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { subscriptionCreateSchema } from '../shared/http/schemas';
import { subscriptionCreatedResponseSchema } from '../shared/http/response-schemas';

/** subscribe_to_events: a signed webhook for chosen event types, owned by the caller; the secret is shown only here. */
export const subscriptionsCreate = route('subscriptions-create', {
  methods: ['POST'],
  route: 'subscriptions',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  body: subscriptionCreateSchema,
  summary: 'subscribe_to_events: a signed webhook for chosen event types, owned by the calling key',
  tags: ['subscriptions'],
  responses: { 201: subscriptionCreatedResponseSchema },
  handler: async ({ body, services, principal }) => {
    const subscription = await services.webhooks.subscribe(body.eventTypes, body.url, principal, {
      ...(body.maxEventsPerBatch !== undefined ? { maxEventsPerBatch: body.maxEventsPerBatch } : {}),
    });
    return created(subscription, {
      location: `/api/subscriptions/${subscription.id}`,
      'cache-control': 'no-store',
    });
  },
});
