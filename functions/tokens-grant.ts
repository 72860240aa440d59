import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { idempotencyKeyOf } from '../shared/http/metered';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

const bodySchema = z.strictObject({
  amount: z.number().int().min(1).max(1_000_000_000),
  reason: z.string().trim().min(1).max(500).optional(),
});

/** Adds tokens to a user's balance (admin); with an Idempotency-Key a retried grant adds them once. */
export const tokensGrant = route('tokens-grant', {
  methods: ['POST'],
  route: 'tokens/{userId}/grant',
  access: { roles: ['admin'], scope: 'tokens:grant' },
  params: z.object({ userId: userIdParam }),
  body: bodySchema,
  summary: "Add tokens to a user's balance (idempotent with an Idempotency-Key)",
  tags: ['tokens'],
  handler: async ({ request, params, body, services, principal }) => {
    const { userId } = params;
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
  },
});
