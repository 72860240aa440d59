import { z } from 'zod';
import { toJsonObject } from '../shared/domain/json';
import { idempotencyKeyOf, meteredResponse } from '../shared/http/metered';
import { titleParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { requestedUser } from '../shared/services/career-records';

/**
 * Career recommendations (metered, BRIDGE_TOKEN_COST_CAREER_RECOMMENDATIONS): next roles and
 * skills to learn from the profile, the latest resume and the taxonomy's pathways, each with its
 * reason and evidence.
 */
export const careerRecommendationsGet = route('career-recommendations-get', {
  methods: ['GET'],
  route: 'career/recommendations',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'career' },
  query: z.object({ userId: userIdParam.optional(), title: titleParam.optional() }),
  summary: 'Career recommendations (metered): next roles and skills to learn, with reasons and evidence',
  tags: ['career'],
  handler: async ({ request, query, services, principal }) => {
    const userId = requestedUser(principal, query.userId, 'get career recommendations');
    const outcome = await services.metering.run({
      operation: 'career-recommendations',
      userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { query: { ...query, userId } },
      subject: query.title ?? 'recommendations',
      compute: async () =>
        toJsonObject(
          await services.career.recommendations(
            userId,
            query.title !== undefined ? { title: query.title } : {},
          ),
        ),
    });
    return meteredResponse('career-recommendations', userId, outcome);
  },
});
