import { app } from '@azure/functions';
import { noContent } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

export const keysDelete = route({ roles: ['admin'] }, async ({ request, services }) => {
  const id = request.params.id ?? '';
  if (!(await services.apiKeys.revoke(id))) throw new ServiceError('not-found', `No API key with id ${id}.`);
  return noContent();
});

app.http('keys-delete', {
  methods: ['DELETE'],
  route: 'keys/{id}',
  authLevel: 'anonymous',
  handler: keysDelete,
});
