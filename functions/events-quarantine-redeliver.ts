import { z } from 'zod';
import { accepted } from '../shared/http/http-response';
import { quarantineIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

/** Publishes a quarantined event again once its cause is fixed; refused again, it stays (409). */
export const eventsQuarantineRedeliver = route('events-quarantine-redeliver', {
  methods: ['POST'],
  route: 'events/quarantine/{id}/redeliver',
  access: { roles: ['admin'], scope: 'events:quarantine' },
  params: z.object({ id: quarantineIdParam }),
  summary: 'Redeliver a quarantined event (409 with the reason if it is still refused)',
  tags: ['events'],
  handler: async ({ params, services }) => {
    const entry = await services.quarantine.redeliver(params.id);
    return accepted({ id: entry.id, eventId: entry.eventId, redelivered: true });
  },
});
