import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { quarantineIdParam } from '../shared/http/params';
import { ProblemError } from '../shared/http/problem-error';
import { route } from '../shared/http/route';

/** Dismisses a quarantine entry without redelivering its event. */
export const eventsQuarantineDelete = route('events-quarantine-delete', {
  methods: ['DELETE'],
  route: 'events/quarantine/{id}',
  access: { roles: ['admin'], scope: 'events:quarantine' },
  params: z.object({ id: quarantineIdParam }),
  summary: 'Dismiss a quarantined event without redelivering it',
  tags: ['events'],
  handler: async ({ params, services }) => {
    if (!(await services.quarantine.dismiss(params.id))) {
      throw new ProblemError({
        status: 404,
        type: 'not-found',
        title: 'Not found',
        detail: `No quarantined event ${params.id}.`,
      });
    }
    return noContent();
  },
});
