import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { MeteredOperation, MeteredOutcome } from '../services/metering-service';
import { ok } from './http-response';
import { validationProblem } from './validation';

/** The HTTP side of metered operations (the use case itself is MeteringService). */

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

/** Headers every metered answer carries (a replay says so). */
export function meteredHeaders(outcome: MeteredOutcome): Record<string, string> {
  return {
    'cache-control': 'no-store',
    ...(outcome.receipt.replayed ? { 'idempotent-replayed': 'true' } : {}),
  };
}

/** The JSON answer of a metered operation: its result and what it cost. */
export function meteredResponse(
  operation: MeteredOperation,
  userId: string,
  outcome: MeteredOutcome,
): HttpResponseInit {
  const { receipt } = outcome;
  const body = {
    ...outcome.result,
    tokens: {
      userId,
      operation,
      charged: receipt.amount,
      balance: receipt.balance,
      entryId: receipt.entryId,
    },
  };
  return ok(body, meteredHeaders(outcome));
}
