import { z } from 'zod';
import { toJsonObject } from '../shared/domain/json';
import { idempotencyKeyOf, meteredResponse } from '../shared/http/metered';
import { titleParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

/**
 * get_title_relationships (metered, BRIDGE_TOKEN_COST_RELATIONSHIPS): related titles with their kind
 * (alias, progression, lateral, related, same family …) and strength. `?userId=` names the user to charge.
 */
export const jobTitlesRelationshipsGet = route('job-titles-relationships-get', {
  methods: ['GET'],
  route: 'job-titles/{title}/relationships',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'tokens:spend' },
  params: z.object({ title: titleParam }),
  query: z.object({ userId: userIdParam }),
  summary: 'get_title_relationships (metered): related titles with kind and strength',
  tags: ['job-titles'],
  handler: async ({ request, params, query, services, principal }) => {
    const outcome = await services.metering.run({
      operation: 'relationships',
      userId: query.userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { params, query },
      subject: params.title,
      compute: async () => toJsonObject(await services.jobTitles.relationships(params.title)),
    });
    return meteredResponse('relationships', query.userId, outcome);
  },
});
