import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { providerLockBodySchema } from '../shared/services/analysis-schemas';
import { providersResponseSchema } from '../shared/http/response-schemas';

/**
 * An admin gives the lock to a provider: `{provider, reason}` → the providers view. 400 for an unknown
 * provider, 409 for one that is not configured or still cooling down.
 */
export const providersLockAcquire = route('providers-lock-acquire', {
  methods: ['POST'],
  route: 'providers/lock',
  access: { roles: ['admin'], scope: 'providers' },
  body: providerLockBodySchema,
  summary: 'Give the AI provider lock to a provider',
  tags: ['providers'],
  responses: { 200: providersResponseSchema },
  handler: async ({ body, services }) => {
    await services.providerLock.acquire(body.provider, body.reason);
    return ok(await services.analysis.providers(), { 'cache-control': 'no-store' });
  },
});
