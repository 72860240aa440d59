import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { usageRangeOf, usageRangeQuery } from '../shared/http/usage-range';
import { endUserPrincipal, principalKey } from '../shared/services/principal';

/**
 * An end user's usage (requests made with their bearer tokens): per hour by route group (scope)
 * and status class, and their last use, between `from` and `to` (default: the last 24 hours).
 */
export const usageGet = route('usage-get', {
  methods: ['GET'],
  route: 'usage',
  access: { roles: ['admin'], scope: 'usage' },
  query: z.object({ userId: userIdParam, ...usageRangeQuery }),
  summary: "An end user's requests per hour by route group and status class, and their last use",
  tags: ['usage'],
  handler: async ({ query, services }) => {
    const { from, to } = usageRangeOf(query, services.clock.now());
    const report = await services.usage.report(principalKey(endUserPrincipal(query.userId)), from, to);
    return ok({ userId: query.userId, ...report }, { 'cache-control': 'no-store' });
  },
});
