import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { intQuery } from '../shared/http/params';
import { route } from '../shared/http/route';

const querySchema = z.object({
  limit: intQuery(1, 1000).optional(),
  continuation: z.string().min(1).max(2000).optional(),
});

/** Events the bus or a consumer refused for a reason of their own, with the reason (admins). */
export const eventsQuarantineList = route('events-quarantine-list', {
  methods: ['GET'],
  route: 'events/quarantine',
  access: { roles: ['admin'], scope: 'events:quarantine' },
  query: querySchema,
  summary: 'List quarantined events (refused by the bus or a consumer) with the reason',
  tags: ['events'],
  handler: async ({ query, services }) =>
    ok(await services.quarantine.list(query.limit ?? 100, query.continuation), {
      'cache-control': 'no-store',
    }),
});
