import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { filePathParam } from '../shared/http/params';
import { forbidden } from '../shared/http/problem-error';
import { route } from '../shared/http/route';

/** Deletes a file: 204, or 404 when there is none at the path. */
export const filesDelete = route('files-delete', {
  methods: ['DELETE'],
  route: 'files/{*path}',
  access: { roles: ['admin', 'user', 'service'] },
  params: z.object({ path: filePathParam }),
  summary: 'Delete a file (a user key only under users/{userId}/)',
  tags: ['files'],
  handler: async ({ params, services, principal }) => {
    const access = services.files.access(principal.role, params.path);
    if (!access.allowed) throw forbidden(access.reason);
    await services.files.delete(access.path);
    return noContent();
  },
});
