import { app } from '@azure/functions';
import { created } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { keyCreateSchema } from '../shared/http/schemas';

/** Issues an API key; the key is in this response only and stored as a hash. */
export const keysCreate = route({ roles: ['admin'] }, async ({ request, services }) => {
  const body = await readJsonBody(request, keyCreateSchema, services.config.http.maxBodyBytes);
  const issued = await services.apiKeys.issue(body.role, body.name);
  return created(issued, { location: `/api/keys/${issued.id}`, 'cache-control': 'no-store' });
});

app.http('keys-create', { methods: ['POST'], route: 'keys', authLevel: 'anonymous', handler: keysCreate });
