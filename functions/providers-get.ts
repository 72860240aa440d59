import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { intQuery } from '../shared/http/params';
import { route } from '../shared/http/route';
import { providersResponseSchema } from '../shared/http/response-schemas';

/**
 * The provider lock: the active AI provider and why, each provider's state and cooldown left, the
 * next in line, and the newest `audit` (default 50, at most 1000) lock events.
 */
export const providersGet = route('providers-get', {
  methods: ['GET'],
  route: 'providers',
  access: { roles: ['admin', 'user', 'service'], scope: 'providers' },
  query: z.object({ audit: intQuery(0, 1000).optional() }),
  summary: 'The AI provider lock: active provider, states, cooldowns, recent lock events',
  tags: ['providers'],
  responses: { 200: providersResponseSchema },
  handler: async ({ query, services }) =>
    ok(await services.analysis.providers(query.audit ?? 50), { 'cache-control': 'no-store' }),
});
