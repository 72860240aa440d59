import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { assertMayActForUser } from '../shared/services/access-policy';
import { ServiceError } from '../shared/services/errors';

/** A user's profile with field metadata and its ETag (an end user: only their own). */
export const usersGet = route('users-get', {
  methods: ['GET'],
  route: 'users/{userId}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'users:read' },
  params: z.object({ userId: userIdParam }),
  summary: "A user's profile, with per-field versions and its ETag",
  tags: ['users'],
  handler: async ({ params, services, principal }) => {
    assertMayActForUser(principal, params.userId, 'read the profile');
    const profile = await services.sync.get(params.userId);
    if (!profile) throw new ServiceError('not-found', `No user ${params.userId}.`);
    const { etag, ...body } = profile;
    return ok(body, { etag });
  },
});
