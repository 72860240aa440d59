import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { intQuery, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { requestedUser } from '../shared/services/career-records';

/** A user's coaching sessions with their turns, most recently active first within a page. */
export const careerCoachingSessionsList = route('career-coaching-sessions-list', {
  methods: ['GET'],
  route: 'career/coaching/sessions',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'career' },
  query: z.object({
    userId: userIdParam.optional(),
    limit: intQuery(1, 100).optional(),
    continuation: z.string().min(1).max(4096).optional(),
  }),
  summary: "List a user's coaching sessions",
  tags: ['career'],
  handler: async ({ query, services, principal }) => {
    const userId = requestedUser(principal, query.userId, 'list the coaching sessions');
    const page = await services.career.sessions(userId, {
      limit: query.limit ?? 20,
      ...(query.continuation !== undefined ? { continuation: query.continuation } : {}),
    });
    return ok({ userId, ...page }, { 'cache-control': 'no-store' });
  },
});
