import { app } from '@azure/functions';
import { USER_ID_PATTERN, USER_ID_RULE } from '../shared/domain/ids';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { checkedParam, validationProblem } from '../shared/http/validation';

/** A user's token balance and ledger, newest first: `?limit=` (1-200, default 50) and `?after=<next>` page on. */
export const tokensGet = route({ roles: ['admin', 'user', 'service'] }, async ({ request, services }) => {
  const userId = checkedParam(request.params.userId, 'userId', USER_ID_PATTERN, USER_ID_RULE);
  const limitText = request.query.get('limit') ?? '50';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 200) {
    throw validationProblem(
      [{ path: 'limit', message: 'must be a whole number from 1 to 200' }],
      'Invalid limit.',
    );
  }
  const after = request.query.get('after') ?? undefined;
  if (after !== undefined && (after.length === 0 || after.length > 2000)) {
    throw validationProblem(
      [{ path: 'after', message: 'must be the next value of a previous page' }],
      'Invalid after.',
    );
  }
  const [balance, page] = await Promise.all([
    services.tokens.balance(userId),
    services.tokens.ledger(userId, limit, after),
  ]);
  return ok({ userId, ...balance, ledger: page.entries, next: page.next }, { 'cache-control': 'no-store' });
});

app.http('tokens-get', {
  methods: ['GET'],
  route: 'tokens/{userId}',
  authLevel: 'anonymous',
  handler: tokensGet,
});
