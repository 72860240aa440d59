import { z } from 'zod';
import { cursorQuery, eventTypesQuery, subjectQuery } from '../shared/http/event-params';
import { ProblemError } from '../shared/http/problem-error';
import { route } from '../shared/http/route';
import { MAX_FRAMES_PER_CHUNK, sseResponse } from '../shared/http/sse';
import { MAX_TICKET_LENGTH } from '../shared/services/stream-ticket-service';
import { eventFilterFor, replaySubjectFor } from '../shared/services/access-policy';
import { EventStreamSession } from '../shared/services/event-stream-session';

const querySchema = z.object({
  after: cursorQuery.optional(),
  types: eventTypesQuery.optional(),
  subject: subjectQuery.optional(),
  ticket: z.string().max(MAX_TICKET_LENGTH).optional(),
});

/** When the instance is at BRIDGE_STREAM_MAX_CONNECTIONS: try again after this many seconds. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Server-Sent Events: the committed events (CloudEvents) as they happen, each with the cursor after
 * it; resumable from `Last-Event-ID` (what EventSource sends) or `?after=`. See shared/http/sse.ts
 * for the frames and shared/services/event-stream-session.ts for the ordering guarantees.
 */
export const eventsStreamGet = route('events-stream-get', {
  methods: ['GET'],
  route: 'events/stream',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'events:read', tickets: true },
  query: querySchema,
  summary: 'Stream committed events as Server-Sent Events, resumable from a cursor (Last-Event-ID or after)',
  tags: ['events'],
  handler: async ({ request, context, query, services, principal }) => {
    // An end user streams only events about themselves (access-policy eventFilterFor), as in replay;
    // asking for another subject is a 403 before anything is read.
    const visibility = eventFilterFor(principal);
    const subject = replaySubjectFor(principal, query.subject);
    // EventSource reconnects to the same URL with Last-Event-ID: the header wins over `after`.
    const lastEventId = request.headers.get('last-event-id')?.trim();
    const after =
      lastEventId !== undefined && lastEventId !== ''
        ? services.events.parseCursor(lastEventId, 'Last-Event-ID')
        : query.after !== undefined
          ? services.events.parseCursor(query.after)
          : undefined;
    const { stream: limits } = services.config;
    if (!services.streams.tryAdmit()) {
      throw new ProblemError(
        {
          status: 503,
          type: 'too-many-streams',
          title: 'Too many event streams',
          detail: `This instance serves at most ${services.streams.maxStreams} event streams; retry shortly.`,
        },
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    let session: EventStreamSession;
    try {
      session = await EventStreamSession.open({
        hub: services.streams,
        log: services.events,
        clock: services.clock,
        filter: {
          ...(query.types ? { types: query.types } : {}),
          ...(subject !== undefined ? { subject } : {}),
          visible: visibility.matches,
          // Everything the filter depends on: the end user's id decides `visible` (eventFilterFor).
          key: JSON.stringify([query.types ?? null, subject ?? null, visibility.subject ?? null]),
        },
        ...(after ? { after } : {}),
        runMax: MAX_FRAMES_PER_CHUNK,
        limits: {
          heartbeatMs: limits.heartbeatMs,
          maxDurationMs: limits.maxDurationMs,
          maxLagEvents: limits.maxLagEvents,
        },
      });
    } catch (error) {
      services.streams.release();
      throw error;
    }
    return sseResponse(session, {
      heartbeatSeconds: limits.heartbeatMs / 1000,
      onError: (error) => context.warn(`events-stream-get: ended early: ${String(error)}`),
    });
  },
});
