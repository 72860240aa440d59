import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { TokenCosts } from '../config';
import { USER_ID_PATTERN, USER_ID_RULE } from '../domain/ids';
import type { JsonValue } from '../ports/document-store';
import type { TokenReceipt } from '../services/token-service';
import { ok } from './http-response';
import type { RouteArgs } from './route';
import { checkedParam, validationProblem } from './validation';

/**
 * Metered job-title operations: the answer is computed first (pure, cheap), then the charge and the
 * operation's record are written in one atomic batch (TokenService.charge), then the caller hears the
 * answer. A request repeated with the same Idempotency-Key gets the recorded answer and is not
 * charged again (header `idempotent-replayed: true`).
 */

export type MeteredOperation = keyof TokenCosts;

export const METERED_OPERATIONS: readonly MeteredOperation[] = [
  'word-cloud',
  'analyze-title',
  'pathways',
  'market',
  'relationships',
];

export const userIdSchema = z.string().regex(USER_ID_PATTERN, USER_ID_RULE);
export const titleSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, when sent: 1-255 visible ASCII characters. */
export function idempotencyKeyOf(request: HttpRequest): string | undefined {
  const key = request.headers.get('idempotency-key');
  if (key === null) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw validationProblem(
      [{ path: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' }],
      'Invalid Idempotency-Key header.',
    );
  }
  return key;
}

/** The user to charge on a GET: `?userId=`. */
export function queryUserId(request: HttpRequest): string {
  return checkedParam(request.query.get('userId'), 'userId', USER_ID_PATTERN, USER_ID_RULE);
}

/** The `{title}` route parameter, trimmed, 1-200 characters. */
export function titleParam(request: HttpRequest): string {
  const parsed = titleSchema.safeParse(request.params.title ?? '');
  if (!parsed.success)
    throw validationProblem(
      [{ path: 'title', message: parsed.error.issues[0]?.message ?? 'invalid' }],
      'Invalid title.',
    );
  return parsed.data;
}

/** Charges `userId` for `operation` and records `result` with it; answers with the (recorded) result. */
export async function chargeAndRecord(
  { request, services, principal }: RouteArgs,
  operation: MeteredOperation,
  userId: string,
  subject: string,
  result: JsonValue,
): Promise<{ result: JsonValue; receipt: TokenReceipt }> {
  return services.tokens.charge({
    userId,
    operation,
    cost: services.config.tokens.costs[operation],
    result,
    principal,
    idempotencyKey: idempotencyKeyOf(request),
    subject,
  });
}

/** The JSON answer of a metered operation: its result and what it cost. */
export function meteredResponse(
  operation: MeteredOperation,
  userId: string,
  outcome: { result: JsonValue; receipt: TokenReceipt },
): HttpResponseInit {
  const { receipt } = outcome;
  const body = {
    ...(outcome.result as Record<string, JsonValue>),
    tokens: {
      userId,
      operation,
      charged: receipt.amount,
      balance: receipt.balance,
      entryId: receipt.entryId,
    },
  };
  return ok(body, {
    'cache-control': 'no-store',
    ...(receipt.replayed ? { 'idempotent-replayed': 'true' } : {}),
  });
}
