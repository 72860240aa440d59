import { z } from 'zod';
import { created } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/**
 * A short-lived ticket that opens GET /api/events/stream as the caller without headers: browsers'
 * EventSource cannot send x-api-key, and a key never belongs in a URL.
 */
export const eventsStreamTicketsCreate = route('events-stream-tickets-create', {
  methods: ['POST'],
  route: 'events/stream/tickets',
  // A ticket only opens the stream (scope events:read), as the caller: issuing one reads nothing.
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'events:read', rateClass: 'read' },
  summary: 'A short-lived ticket that opens the event stream as the caller (for EventSource)',
  tags: ['events'],
  responses: {
    201: z.object({ ticket: z.string(), expiresAt: z.string(), url: z.string() }),
  },
  handler: async ({ services, principal }) => {
    const issued = services.streamTickets.issue(principal);
    return created(
      { ...issued, url: `/api/events/stream?ticket=${encodeURIComponent(issued.ticket)}` },
      { 'cache-control': 'no-store' },
    );
  },
});
