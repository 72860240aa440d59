import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { providerReleaseBodySchema } from '../shared/services/analysis-schemas';
import { providersResponseSchema } from '../shared/http/response-schemas';

/** An admin releases the lock: `{reason}` → the providers view; the next analysis gives it to the first in line. */
export const providersRelease = route('providers-release', {
  methods: ['POST'],
  route: 'providers/release',
  access: { roles: ['admin'], scope: 'providers' },
  body: providerReleaseBodySchema,
  summary: 'Release the AI provider lock (the next analysis gives it to the first in line)',
  tags: ['providers'],
  responses: { 200: providersResponseSchema },
  handler: async ({ body, services }) => {
    await services.providerLock.release(body.reason);
    return ok(await services.analysis.providers(), { 'cache-control': 'no-store' });
  },
});
