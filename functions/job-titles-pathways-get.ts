import { z } from 'zod';
import { toJsonObject } from '../shared/domain/json';
import { idempotencyKeyOf, meteredResponse } from '../shared/http/metered';
import { titleParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

/**
 * get_career_pathways (metered, BRIDGE_TOKEN_COST_PATHWAYS): next roles, lateral moves, earlier roles
 * and promotion paths with curated typical years. `?userId=` names the user to charge.
 */
export const jobTitlesPathwaysGet = route('job-titles-pathways-get', {
  methods: ['GET'],
  route: 'job-titles/{title}/pathways',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'tokens:spend' },
  params: z.object({ title: titleParam }),
  query: z.object({ userId: userIdParam }),
  summary: 'get_career_pathways (metered): next roles, lateral moves and promotion paths',
  tags: ['job-titles'],
  handler: async ({ request, params, query, services, principal }) => {
    const outcome = await services.metering.run({
      operation: 'pathways',
      userId: query.userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { params, query },
      subject: params.title,
      compute: async () => toJsonObject(await services.jobTitles.pathways(params.title)),
    });
    return meteredResponse('pathways', query.userId, outcome);
  },
});
