import { accepted } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { publishBodySchema } from '../shared/http/schemas';
import { eventPublishedResponseSchema } from '../shared/http/response-schemas';
import { publishSubjectFor } from '../shared/services/access-policy';

/** publish_event: commits a portal's event to the outbox; it reaches subscribers of its type. */
export const eventsPublish = route('events-publish', {
  methods: ['POST'],
  route: 'events',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'events:publish' },
  body: publishBodySchema,
  summary: "publish_event: commit a portal's event; it reaches subscribers of its type",
  tags: ['events'],
  responses: { 202: eventPublishedResponseSchema },
  handler: async ({ body, services, principal }) => {
    // An end user publishes only about themselves (their id as subject when left out).
    const subject = publishSubjectFor(principal, body.subject);
    const request = { ...body, ...(subject !== undefined ? { subject } : {}) };
    const { id, sequence, duplicate } = await services.publisher.publish(request, principal);
    return accepted({ id, sequence, duplicate });
  },
});
