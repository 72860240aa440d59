import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { userListQuerySchema } from '../shared/services/admin/admin-schemas';

const userRow = z.object({
  userId: z.string(),
  data: z.record(z.string(), z.json()),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/**
 * Lists users (admin): search by id prefix and `q` (name, email, title fields), filter by creation
 * and update times and one field's value, sort by userId, createdAt or updatedAt, and page with a
 * cursor that resumes exactly after the last user returned (keyset paging) while users are written.
 */
export const adminUsersList = route('admin-users-list', {
  methods: ['GET'],
  route: adminRoute('users'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  query: userListQuerySchema,
  summary: 'List and search users with filters, sort and a stable cursor (admin)',
  tags: ['admin'],
  responses: {
    200: z.object({
      users: z.array(userRow),
      next: z.string().nullable(),
      limit: z.number(),
      sort: z.enum(['userId', 'createdAt', 'updatedAt']),
      order: z.enum(['asc', 'desc']),
      requestCharge: z.number().nullable(),
    }),
  },
  handler: async ({ query, services }) =>
    ok(await services.admin.users.list(query), { 'cache-control': 'no-store' }),
});
