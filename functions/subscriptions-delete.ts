import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { subscriptionIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

/** Deletes a subscription: its owner or an admin; 404 for anyone else (as if it did not exist). */
export const subscriptionsDelete = route('subscriptions-delete', {
  methods: ['DELETE'],
  route: 'subscriptions/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'subscriptions' },
  params: z.object({ id: subscriptionIdParam }),
  summary: 'Delete a subscription (404 unless the caller owns it or is an admin)',
  tags: ['subscriptions'],
  handler: async ({ params, services, principal }) => {
    if (!(await services.webhooks.unsubscribe(params.id, principal)))
      throw new ServiceError('not-found', `No subscription ${params.id}.`);
    return noContent();
  },
});
