import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { syncBodySchema } from '../shared/http/schemas';
import { syncResponseSchema } from '../shared/http/response-schemas';
import { assertMayActForUser } from '../shared/services/access-policy';

/** sync_user_data: merges one portal's write into the user's profile under the admin-override rules. */
export const usersSync = route('users-sync', {
  methods: ['POST'],
  route: 'users/{userId}/sync',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'users:write' },
  params: z.object({ userId: userIdParam }),
  body: syncBodySchema,
  summary: "sync_user_data: merge one portal's write into the profile",
  tags: ['users'],
  responses: { 200: syncResponseSchema },
  // A refused request still counts in the sync metrics, as a client rejection.
  onRejectedInput: (services, elapsedMs) => services.syncMetrics.record('rejected', elapsedMs),
  handler: async ({ params, body, services, principal }) => {
    // An end user syncs only their own profile, as a user-portal write (protected fields apply).
    assertMayActForUser(principal, params.userId, 'sync the profile');
    return ok(await services.sync.sync(params.userId, body, principal.role));
  },
});
