import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

/** Deletes a user's profile (admin): 204, 404 if unknown. */
export const usersDelete = route('users-delete', {
  methods: ['DELETE'],
  route: 'users/{userId}',
  access: { roles: ['admin'], scope: 'users:write' },
  params: z.object({ userId: userIdParam }),
  summary: "Delete a user's profile",
  tags: ['users'],
  handler: async ({ params, services, principal }) => {
    if (!(await services.sync.delete(params.userId, principal.role)))
      throw new ServiceError('not-found', `No user ${params.userId}.`);
    return noContent();
  },
});
