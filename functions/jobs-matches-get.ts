import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { intQuery, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { assertMayActForUser } from '../shared/services/access-policy';

/**
 * Postings ranked for a user (skills from the profile and the latest resume, current and target
 * titles), with the matched and missing skills of each.
 */
export const jobsMatchesGet = route('jobs-matches-get', {
  methods: ['GET'],
  route: 'jobs/matches/{userId}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'jobs' },
  params: z.object({ userId: userIdParam }),
  query: z.object({ limit: intQuery(1, 50).optional(), offset: intQuery(0, 10_000).optional() }),
  summary: 'Job postings ranked for a user, with matched and missing skills',
  tags: ['jobs'],
  handler: async ({ params, query, services, principal }) => {
    const { userId } = params;
    assertMayActForUser(principal, userId, 'get the job matches');
    const { candidate } = await services.candidates.view(userId);
    const titles = [candidate.current?.title, candidate.target?.title].filter(
      (t): t is string => t !== undefined,
    );
    const page = await services.jobPostings.matches(
      {
        skills: candidate.skills.map((s) => s.skill),
        titles,
        seniority: candidate.current?.seniority ?? null,
      },
      { limit: query.limit ?? 10, offset: query.offset ?? 0 },
    );
    return ok(
      {
        userId,
        basedOn: {
          skills: candidate.skills.length,
          current: candidate.current?.title ?? null,
          target: candidate.target?.title ?? null,
          notes: candidate.notes,
        },
        ...page,
      },
      { 'cache-control': 'no-store' },
    );
  },
});
