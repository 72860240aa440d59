import { accepted } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { publishBodySchema } from '../shared/http/schemas';

/** publish_event: commits a portal's event to the outbox; it reaches subscribers of its type. */
export const eventsPublish = route('events-publish', {
  methods: ['POST'],
  route: 'events',
  access: { roles: ['admin', 'user', 'service'] },
  body: publishBodySchema,
  summary: "publish_event: commit a portal's event; it reaches subscribers of its type",
  tags: ['events'],
  handler: async ({ body, services, principal }) => {
    const { id, sequence, duplicate } = await services.publisher.publish(body, principal);
    return accepted({ id, sequence, duplicate });
  },
});
