import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { requestedUser } from '../shared/services/career-records';
import { resumeListSchema } from '../shared/services/career-schemas';

/** A user's resumes, most recently written first (without their text). */
export const resumesList = route('resumes-list', {
  methods: ['GET'],
  route: 'resumes',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'resumes' },
  query: z.object({ userId: userIdParam.optional() }),
  summary: "List a user's resumes, most recent first",
  tags: ['resumes'],
  responses: { 200: resumeListSchema },
  handler: async ({ query, services, principal }) => {
    const userId = requestedUser(principal, query.userId, 'list the resumes');
    return ok({ userId, resumes: await services.resumes.list(userId) }, { 'cache-control': 'no-store' });
  },
});
