import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { filePathParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { assertMayTouchFile } from '../shared/services/access-policy';

/** Deletes a file: 204, or 404 when there is none at the path. */
export const filesDelete = route('files-delete', {
  methods: ['DELETE'],
  route: 'files/{*path}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'files' },
  params: z.object({ path: filePathParam }),
  summary: 'Delete a file (a user key only under users/, an end user under users/<self>/)',
  tags: ['files'],
  handler: async ({ params, services, principal }) => {
    const path = services.files.checkPath(params.path);
    assertMayTouchFile(principal, path);
    await services.files.delete(path);
    return noContent();
  },
});
