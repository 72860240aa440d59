import { created } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { syncResponseSchema } from '../shared/http/response-schemas';
import { route } from '../shared/http/route';
import { userCreateSchema } from '../shared/services/admin/admin-schemas';

/** Creates a user with an admin write (sync rules, user_update event); 409 when the user exists. */
export const adminUsersCreate = route('admin-users-create', {
  methods: ['POST'],
  route: adminRoute('users'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  body: userCreateSchema,
  summary: 'Create a user (admin write with its event); 409 when the user exists',
  tags: ['admin'],
  // The answer of the admin sync that created it.
  responses: { 201: syncResponseSchema },
  handler: async ({ body, services }) => {
    const result = await services.admin.users.create(body.userId, body.data);
    return created(result, { location: `/api/users/${encodeURIComponent(result.userId)}` });
  },
});
