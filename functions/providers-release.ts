import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { providerReleaseBodySchema } from '../shared/services/analysis-schemas';

/** An admin releases the lock: `{reason}` → the providers view; the next analysis gives it to the first in line. */
export const providersRelease = route({ roles: ['admin'] }, async ({ request, services }) => {
  const body = await readJsonBody(request, providerReleaseBodySchema, services.config.http.maxBodyBytes);
  await services.providerLock.release(body.reason);
  return ok(await services.analysis.providers(), { 'cache-control': 'no-store' });
});

app.http('providers-release', {
  methods: ['POST'],
  route: 'providers/release',
  authLevel: 'anonymous',
  handler: providersRelease,
});
