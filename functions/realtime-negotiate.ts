import { z } from 'zod';
import { EVENT_TYPE_PATTERN } from '../shared/domain/cloud-event';
import { ok } from '../shared/http/http-response';
import { MAX_FILTER_TYPES, subjectQuery } from '../shared/http/event-params';
import { ProblemError } from '../shared/http/problem-error';
import { route } from '../shared/http/route';
import { replaySubjectFor } from '../shared/services/access-policy';

const bodySchema = z
  .object({
    types: z
      .array(z.string().regex(EVENT_TYPE_PATTERN, 'must be an event type'))
      .min(1)
      .max(MAX_FILTER_TYPES)
      .optional(),
    subject: subjectQuery.optional(),
  })
  .strict();

/**
 * Realtime push through Azure Web PubSub (BRIDGE_REALTIME=webpubsub): a client access URL for the
 * caller, joined to the groups of the events it asked for (and may see), and the log's cursor now.
 */
export const realtimeNegotiate = route('realtime-negotiate', {
  methods: ['POST'],
  route: 'realtime/negotiate',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'events:read' },
  body: bodySchema,
  bodyOptional: true,
  summary:
    'A Web PubSub client access URL for the caller, joined to its event groups (BRIDGE_REALTIME=webpubsub)',
  tags: ['events'],
  responses: {
    200: z.object({
      url: z.string(),
      expiresAt: z.string(),
      groups: z.array(z.string()),
      cursor: z.string(),
    }),
  },
  handler: async ({ body, services, principal }) => {
    // Who may hear about whom is decided before anything else (an end user: only themselves).
    replaySubjectFor(principal, body.subject);
    if (!services.realtime) {
      throw new ProblemError({
        status: 404,
        type: 'realtime-off',
        title: 'Realtime push is off',
        detail:
          'This bridge does not push through Web PubSub (BRIDGE_REALTIME=off); use GET /api/events/stream.',
      });
    }
    const negotiated = await services.realtime.negotiate(principal, {
      ...(body.types ? { types: body.types } : {}),
      ...(body.subject !== undefined ? { subject: body.subject } : {}),
    });
    return ok(negotiated, { 'cache-control': 'no-store' });
  },
});
