import { app } from '@azure/functions';
import { noContent } from '../shared/http/http-response';
import { forbidden } from '../shared/http/problem-error';
import { route } from '../shared/http/route';

/** Deletes a file: 204, or 404 when there is none at the path. */
export const filesDelete = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services, principal }) => {
    const access = services.files.access(principal.role, request.params.path);
    if (!access.allowed) throw forbidden(access.reason);
    await services.files.delete(access.path);
    return noContent();
  },
);

app.http('files-delete', {
  methods: ['DELETE'],
  route: 'files/{*path}',
  authLevel: 'anonymous',
  handler: filesDelete,
});
