import { z } from 'zod';
import { APPLICATION_STATUSES } from '../shared/domain/career/applications';
import { ok } from '../shared/http/http-response';
import { intQuery, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { isAdmin } from '../shared/services/access-policy';
import { requestedUser } from '../shared/services/career-records';

/** A user's applications (an admin may leave out userId to list everyone's), optionally by status. */
export const jobsApplicationsList = route('jobs-applications-list', {
  methods: ['GET'],
  route: 'jobs/applications',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'jobs' },
  query: z.object({
    userId: userIdParam.optional(),
    status: z.enum(APPLICATION_STATUSES).optional(),
    limit: intQuery(1, 200).optional(),
    continuation: z.string().min(1).max(4096).optional(),
  }),
  summary: "List a user's job applications (admins: everyone's), by status",
  tags: ['jobs'],
  handler: async ({ query, services, principal }) => {
    const userId =
      query.userId === undefined && isAdmin(principal)
        ? undefined
        : requestedUser(principal, query.userId, 'list the applications');
    const page = await services.applications.list(
      {
        ...(userId !== undefined ? { userId } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
      },
      {
        limit: query.limit ?? 50,
        ...(query.continuation !== undefined ? { continuation: query.continuation } : {}),
      },
    );
    return ok({ userId: userId ?? null, ...page }, { 'cache-control': 'no-store' });
  },
});
