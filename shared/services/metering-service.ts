import type { TokenCosts } from '../config';
import type { JsonObject, JsonValue } from '../domain/json';
import { assertMayActForUser } from './access-policy';
import { ServiceError } from './errors';
import type { Principal } from './principal';
import type { TokenReceipt, TokenService } from './token-service';

/** The metered operations (their costs are BRIDGE_TOKEN_COST_*). */
export type MeteredOperation = keyof TokenCosts;

export const METERED_OPERATIONS: readonly MeteredOperation[] = [
  'word-cloud',
  'analyze-title',
  'pathways',
  'market',
  'relationships',
  'career-recommendations',
  'coaching',
];

export interface MeteredCall {
  operation: MeteredOperation;
  /** The user charged. */
  userId: string;
  principal: Principal;
  idempotencyKey?: string;
  /**
   * What was asked (the validated params, query and body). With an Idempotency-Key it is hashed
   * canonically and recorded: the same key with a different request is refused (422).
   */
  request: unknown;
  /** What the operation was about, for the user's statement (e.g. the title). */
  subject: string;
  /**
   * The work itself; runs only when the user can pay and no recorded answer exists. Its answer is
   * the JSON object recorded and sent (`toJsonObject(typedResult)` checks a typed result fits).
   */
  compute: () => Promise<JsonObject>;
}

export interface MeteredOutcome {
  /** The answer (freshly computed, or the one recorded for the Idempotency-Key). */
  result: JsonObject;
  receipt: TokenReceipt;
}

/**
 * A metered operation as one use case:
 *   1. an Idempotency-Key already used by this caller for this user → the recorded answer, no charge
 *      (the same key with a different request → 422);
 *   2. a balance short of the cost → 402 before any work is done;
 *   3. compute the answer;
 *   4. charge and record it in one atomic batch (TokenService.charge), which re-checks both 1 and 2,
 *      so concurrent requests never overdraw and a concurrent retry charges once.
 */
export class MeteringService {
  constructor(private readonly deps: { tokens: TokenService; costs: TokenCosts }) {}

  costOf(operation: MeteredOperation): number {
    return this.deps.costs[operation];
  }

  async run(call: MeteredCall): Promise<MeteredOutcome> {
    const { tokens } = this.deps;
    assertMayActForUser(call.principal, call.userId, 'spend the tokens');
    const cost = this.costOf(call.operation);
    if (call.idempotencyKey !== undefined) {
      const recorded = await tokens.recorded({
        userId: call.userId,
        operation: call.operation,
        principal: call.principal,
        idempotencyKey: call.idempotencyKey,
        request: call.request,
      });
      if (recorded) return { result: asObject(recorded.result), receipt: recorded.receipt };
    }
    await tokens.ensureAffordable(call.userId, call.operation, cost);
    const result = await call.compute();
    const charged = await tokens.charge({
      userId: call.userId,
      operation: call.operation,
      cost,
      result,
      principal: call.principal,
      ...(call.idempotencyKey !== undefined ? { idempotencyKey: call.idempotencyKey } : {}),
      request: call.request,
      subject: call.subject,
    });
    // A concurrent request with the same key may have won the race: its recorded answer is returned.
    return { result: asObject(charged.result), receipt: charged.receipt };
  }
}

/** Recorded metered results are always objects (run() only records objects). */
function asObject(value: JsonValue): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ServiceError('unavailable', 'The recorded answer of this operation is unreadable; retry.');
  }
  return value;
}
