import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { stateKeyParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

/** Deletes a shared state entry; honours If-Match (412 otherwise). */
export const stateDelete = route('state-delete', {
  methods: ['DELETE'],
  route: 'state/{key}',
  access: { roles: ['admin', 'service'], scope: 'state:write' },
  params: z.object({ key: stateKeyParam }),
  summary: 'Delete a shared state entry (If-Match honoured)',
  tags: ['state'],
  handler: async ({ request, params, services }) => {
    const removed = await services.state.delete(params.key, request.headers.get('if-match') ?? undefined);
    if (!removed) throw new ServiceError('not-found', `No state key ${params.key}.`);
    return noContent();
  },
});
