import { z } from 'zod';
import { toJsonObject } from '../shared/domain/json';
import { idempotencyKeyOf } from '../shared/http/metered';
import { json } from '../shared/http/http-response';
import { recordIdParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { requestedUser } from '../shared/services/career-records';
import {
  COACHING_TOPICS,
  MAX_QUESTION,
  type CoachingTopic,
  type CoachingTurn,
} from '../shared/services/career-service';

/**
 * A coaching answer (metered, BRIDGE_TOKEN_COST_COACHING) through the provider lock — a rule-based
 * answer from the recommendations, marked degraded, when no provider answers — kept in a session
 * of the user (a new one, or `sessionId` to continue one).
 */
export const careerCoachingSessionsCreate = route('career-coaching-sessions-create', {
  methods: ['POST'],
  route: 'career/coaching/sessions',
  // An AI call: the ai class (the seeds' 100/hour), like POST /api/analysis/comprehensive.
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'career', rateClass: 'ai' },
  body: z.strictObject({
    userId: userIdParam.optional(),
    question: z.string().trim().min(1).max(MAX_QUESTION),
    topic: z.enum(COACHING_TOPICS).optional(),
    sessionId: recordIdParam.optional(),
  }),
  summary: 'Ask the career coach (metered): an answer through the provider lock, kept in a session',
  tags: ['career'],
  handler: async ({ request, body, services, principal }) => {
    const userId = requestedUser(principal, body.userId, 'ask the career coach');
    const previous = await services.career.prepareCoaching(userId, body.sessionId);
    const outcome = await services.metering.run({
      operation: 'coaching',
      userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { body: { ...body, userId } },
      subject: body.sessionId ?? 'new session',
      compute: async () =>
        toJsonObject(
          await services.career.coach(
            userId,
            {
              question: body.question,
              topic: body.topic ?? 'general',
              ...(body.sessionId !== undefined ? { sessionId: body.sessionId } : {}),
            },
            previous?.body,
          ),
        ),
    });
    const result = outcome.result as unknown as {
      sessionId: string;
      topic: CoachingTopic;
      turn: CoachingTurn;
    };
    const session = await services.career.saveTurn(userId, result);
    return json(
      body.sessionId === undefined ? 201 : 200,
      {
        session,
        turn: result.turn,
        tokens: {
          userId,
          operation: 'coaching',
          charged: outcome.receipt.amount,
          balance: outcome.receipt.balance,
          entryId: outcome.receipt.entryId,
        },
      },
      { 'cache-control': 'no-store', ...(outcome.receipt.replayed ? { 'idempotent-replayed': 'true' } : {}) },
    );
  },
});
