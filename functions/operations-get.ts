import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

export const operationsGet = route({ roles: ['admin', 'user', 'service'] }, async ({ request, services }) => {
  const id = request.params.id ?? '';
  const operation = await services.commands.get(id);
  if (!operation) throw new ServiceError('not-found', `No operation ${id}.`);
  return ok(operation, { 'cache-control': 'no-store' });
});

app.http('operations-get', {
  methods: ['GET'],
  route: 'operations/{id}',
  authLevel: 'anonymous',
  handler: operationsGet,
});
