import { app } from '@azure/functions';
import { noContent } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { secretPutSchema } from '../shared/services/secret-service';

/** Writes a secret: `{value}` → 204. Write-only: no route ever returns a value. */
export const secretsPut = route({ roles: ['admin'] }, async ({ request, services }) => {
  const body = await readJsonBody(request, secretPutSchema, services.config.http.maxBodyBytes);
  await services.secrets.put(request.params.name ?? '', body.value);
  return noContent();
});

app.http('secrets-put', {
  methods: ['PUT'],
  route: 'secrets/{name}',
  authLevel: 'anonymous',
  handler: secretsPut,
});
