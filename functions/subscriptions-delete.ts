import { app } from '@azure/functions';
import { noContent } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

export const subscriptionsDelete = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services }) => {
    const id = request.params.id ?? '';
    if (!(await services.webhooks.unsubscribe(id)))
      throw new ServiceError('not-found', `No subscription ${id}.`);
    return noContent();
  },
);

app.http('subscriptions-delete', {
  methods: ['DELETE'],
  route: 'subscriptions/{id}',
  authLevel: 'anonymous',
  handler: subscriptionsDelete,
});
