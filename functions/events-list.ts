import { z } from 'zod';
import { EVENT_TYPE_PATTERN } from '../shared/domain/cloud-event';
import { ok } from '../shared/http/http-response';
import { intQuery } from '../shared/http/params';
import { route } from '../shared/http/route';
import { eventsPageResponseSchema } from '../shared/http/response-schemas';
import { eventFilterFor, replaySubjectFor } from '../shared/services/access-policy';

const TYPES_RULE = 'must be comma-separated event types';

const querySchema = z.object({
  after: z.string().optional(),
  types: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .refine((types) => types.every((t) => EVENT_TYPE_PATTERN.test(t)), TYPES_RULE)
    .optional(),
  subject: z.string().optional(),
  limit: intQuery(1, 1000).optional(),
});

/** Replay: committed events after a cursor, in commit order, with the cursor to continue from. */
export const eventsList = route('events-list', {
  methods: ['GET'],
  route: 'events',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'events:read' },
  query: querySchema,
  summary: 'Replay committed events after a cursor, in commit order',
  tags: ['events'],
  responses: { 200: eventsPageResponseSchema },
  handler: async ({ query, services, principal }) => {
    // An end user replays only events about themselves (access-policy eventFilterFor).
    const filter = eventFilterFor(principal);
    const page = await services.events.replay({
      after: query.after,
      types: query.types,
      subject: replaySubjectFor(principal, query.subject),
      limit: query.limit ?? 100,
      visible: filter.matches,
    });
    return ok(page, { 'cache-control': 'no-store' });
  },
});
