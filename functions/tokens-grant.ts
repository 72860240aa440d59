import { app } from '@azure/functions';
import { z } from 'zod';
import { USER_ID_PATTERN, USER_ID_RULE } from '../shared/domain/ids';
import { ok } from '../shared/http/http-response';
import { idempotencyKeyOf } from '../shared/http/metered';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { checkedParam } from '../shared/http/validation';

const bodySchema = z.strictObject({
  amount: z.number().int().min(1).max(1_000_000_000),
  reason: z.string().trim().min(1).max(500).optional(),
});

/** Adds tokens to a user's balance (admin); with an Idempotency-Key a retried grant adds them once. */
export const tokensGrant = route({ roles: ['admin'] }, async ({ request, services, principal }) => {
  const userId = checkedParam(request.params.userId, 'userId', USER_ID_PATTERN, USER_ID_RULE);
  const body = await readJsonBody(request, bodySchema, services.config.http.maxBodyBytes);
  const { receipt } = await services.tokens.grant({
    userId,
    amount: body.amount,
    principal,
    ...(body.reason !== undefined ? { reason: body.reason } : {}),
    idempotencyKey: idempotencyKeyOf(request),
  });
  return ok(
    { userId, granted: receipt.amount, balance: receipt.balance, entryId: receipt.entryId },
    receipt.replayed ? { 'idempotent-replayed': 'true' } : {},
  );
});

app.http('tokens-grant', {
  methods: ['POST'],
  route: 'tokens/{userId}/grant',
  authLevel: 'anonymous',
  handler: tokensGrant,
});
