import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Secret names and metadata (`{secrets:[{name, enabled, source, readOnly, contentType?, createdOn?, updatedOn?}]}`), never values. */
export const secretsList = route({ roles: ['admin'] }, async ({ services }) => {
  return ok({ secrets: await services.secrets.list() }, { 'cache-control': 'no-store' });
});

app.http('secrets-list', {
  methods: ['GET'],
  route: 'secrets',
  authLevel: 'anonymous',
  handler: secretsList,
});
