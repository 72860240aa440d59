import { z } from 'zod';
import { idempotencyKeyOf, meteredResponse } from '../shared/http/metered';
import { titleParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { assertMayActForUser } from '../shared/services/access-policy';

/**
 * get_career_pathways for a user (metered, BRIDGE_TOKEN_COST_PATHWAYS): the pathways of the
 * user's current title (profile jobTitle, the latest resume, or ?title=), with readiness per move.
 */
export const careerPathwaysGet = route('career-pathways-get', {
  methods: ['GET'],
  route: 'career/pathways/{userId}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'career' },
  params: z.object({ userId: userIdParam }),
  query: z.object({ title: titleParam.optional() }),
  summary: "get_career_pathways (metered): pathways from the user's current title, with readiness",
  tags: ['career'],
  handler: async ({ request, params, query, services, principal }) => {
    const { userId } = params;
    assertMayActForUser(principal, userId, 'get the career pathways');
    const outcome = await services.metering.run({
      operation: 'pathways',
      userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { params, query },
      subject: query.title ?? 'current title',
      compute: () =>
        services.career.pathways(userId, query.title !== undefined ? { title: query.title } : {}),
    });
    return meteredResponse('pathways', userId, outcome);
  },
});
