import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { intQuery, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { assertMayActForUser } from '../shared/services/access-policy';

const AFTER_RULE = 'must be the next value of a previous page';

/** A user's token balance and ledger, newest first: `?limit=` (1-200, default 50) and `?after=<next>` page on. */
export const tokensGet = route('tokens-get', {
  methods: ['GET'],
  route: 'tokens/{userId}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'tokens:read' },
  params: z.object({ userId: userIdParam }),
  query: z.object({
    limit: intQuery(1, 200).optional(),
    after: z.string().min(1, AFTER_RULE).max(2000, AFTER_RULE).optional(),
  }),
  summary: "A user's token balance and ledger, newest first, page by page",
  tags: ['tokens'],
  handler: async ({ params, query, services, principal }) => {
    const { userId } = params;
    assertMayActForUser(principal, userId, 'read the tokens');
    const [balance, page] = await Promise.all([
      services.tokens.balance(userId),
      services.tokens.ledger(userId, query.limit ?? 50, query.after),
    ]);
    return ok({ userId, ...balance, ledger: page.entries, next: page.next }, { 'cache-control': 'no-store' });
  },
});
