import { app } from '@azure/functions';
import { accepted } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { publishBodySchema } from '../shared/http/schemas';

/** publish_event: commits a portal's event to the outbox; it reaches subscribers of its type. */
export const eventsPublish = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services, principal }) => {
    const body = await readJsonBody(request, publishBodySchema, services.config.http.maxBodyBytes);
    const { id, sequence, duplicate } = await services.publisher.publish(body, principal);
    return accepted({ id, sequence, duplicate });
  },
);

app.http('events-publish', {
  methods: ['POST'],
  route: 'events',
  authLevel: 'anonymous',
  handler: eventsPublish,
});
