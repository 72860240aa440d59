import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { apiKeyIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { usageRangeOf, usageRangeQuery } from '../shared/http/usage-range';
import { principalKey, keyPrincipal } from '../shared/services/principal';

/**
 * A key's usage: requests per hour by route group (scope) and status class, and its last use,
 * between `from` and `to` (default: the last 24 hours). Revoked keys keep their usage (`key` is
 * then null); counts reach the store every BRIDGE_USAGE_FLUSH_SECONDS per instance.
 */
export const keysUsageGet = route('keys-usage-get', {
  methods: ['GET'],
  route: 'keys/{id}/usage',
  access: { roles: ['admin'], scope: 'usage' },
  params: z.object({ id: apiKeyIdParam }),
  query: z.object(usageRangeQuery),
  summary: "A key's requests per hour by route group and status class, and its last use",
  tags: ['keys', 'usage'],
  handler: async ({ params, query, services }) => {
    const { from, to } = usageRangeOf(query, services.clock.now());
    const key = await services.apiKeys.get(params.id);
    const principal = principalKey(keyPrincipal(params.id, key?.role ?? 'user', params.id));
    const report = await services.usage.report(principal, from, to);
    return ok({ keyId: params.id, key: key ?? null, ...report }, { 'cache-control': 'no-store' });
  },
});
