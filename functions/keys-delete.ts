import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { apiKeyIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

/** Revokes an API key: 204, 404 when there is none with that id. */
export const keysDelete = route('keys-delete', {
  methods: ['DELETE'],
  route: 'keys/{id}',
  access: { roles: ['admin'], scope: 'keys' },
  params: z.object({ id: apiKeyIdParam }),
  summary: 'Revoke an API key',
  tags: ['keys'],
  handler: async ({ params, services }) => {
    if (!(await services.apiKeys.revoke(params.id)))
      throw new ServiceError('not-found', `No API key with id ${params.id}.`);
    return noContent();
  },
});
