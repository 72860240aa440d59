import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { stateKeyParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

/** Reads a shared state entry, with its ETag. */
export const stateGet = route('state-get', {
  methods: ['GET'],
  route: 'state/{key}',
  access: { roles: ['admin', 'user', 'service'], scope: 'state:read' },
  params: z.object({ key: stateKeyParam }),
  summary: 'Read a shared state entry (with its ETag)',
  tags: ['state'],
  handler: async ({ params, services }) => {
    const entry = await services.state.get(params.key);
    if (!entry) throw new ServiceError('not-found', `No state key ${params.key}.`);
    const { etag, ...body } = entry;
    return ok(body, { etag });
  },
});
