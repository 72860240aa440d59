import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { providerLockBodySchema } from '../shared/services/analysis-schemas';

/**
 * An admin gives the lock to a provider: `{provider, reason}` → the providers view. 400 for an unknown
 * provider, 409 for one that is not configured or still cooling down.
 */
export const providersAcquire = route({ roles: ['admin'] }, async ({ request, services }) => {
  const body = await readJsonBody(request, providerLockBodySchema, services.config.http.maxBodyBytes);
  await services.providerLock.acquire(body.provider, body.reason);
  return ok(await services.analysis.providers(), { 'cache-control': 'no-store' });
});

app.http('providers-acquire', {
  methods: ['POST'],
  route: 'providers/lock',
  authLevel: 'anonymous',
  handler: providersAcquire,
});
