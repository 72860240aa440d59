import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

/** Webhook deliveries that exhausted their attempts or age, newest state of each. */
export const deadLettersList = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services }) => {
    const id = request.params.id ?? '';
    if (!(await services.webhooks.get(id))) throw new ServiceError('not-found', `No subscription ${id}.`);
    return ok({ subscriptionId: id, deadLetters: await services.webhooks.deadLetters(id, 1000) });
  },
);

app.http('dead-letters-list', {
  methods: ['GET'],
  route: 'subscriptions/{id}/dead-letters',
  authLevel: 'anonymous',
  handler: deadLettersList,
});
