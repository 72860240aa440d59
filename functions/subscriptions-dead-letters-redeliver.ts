import { app } from '@azure/functions';
import { accepted } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { redeliverSchema } from '../shared/http/schemas';
import { ServiceError } from '../shared/services/errors';

/** Puts dead letters (all, or `ids`) back on the delivery queue as fresh deliveries. */
export const deadLettersRedeliver = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services }) => {
    const id = request.params.id ?? '';
    if (!(await services.webhooks.get(id))) throw new ServiceError('not-found', `No subscription ${id}.`);
    const body = await readJsonBody(request, redeliverSchema, services.config.http.maxBodyBytes, {
      allowEmpty: true,
    });
    return accepted({ subscriptionId: id, requeued: await services.webhooks.redeliver(id, body.ids) });
  },
);

app.http('dead-letters-redeliver', {
  methods: ['POST'],
  route: 'subscriptions/{id}/dead-letters/redeliver',
  authLevel: 'anonymous',
  handler: deadLettersRedeliver,
});
