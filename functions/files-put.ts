import { z } from 'zod';
import { json } from '../shared/http/http-response';
import { filePathParam } from '../shared/http/params';
import { rawBody, route } from '../shared/http/route';
import { assertMayTouchFile } from '../shared/services/access-policy';

/**
 * Uploads a file, streamed: the body goes to the store as it arrives and stops at
 * BRIDGE_FILES_MAX_BYTES (413, nothing changes); a declared content-length over it is refused
 * before reading. The content type is kept. 201 when the path was new, 200 when it was replaced.
 */
export const filesPut = route('files-put', {
  methods: ['PUT'],
  route: 'files/{*path}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'files' },
  params: z.object({ path: filePathParam }),
  body: rawBody(['*/*'], 'The file content, streamed; its content type is kept.'),
  summary:
    'Upload a file, streamed, up to BRIDGE_FILES_MAX_BYTES (a user key only under users/, an end user under users/<self>/)',
  tags: ['files'],
  handler: async ({ request, params, services, principal }) => {
    const path = services.files.checkPath(params.path);
    assertMayTouchFile(principal, path);
    const { file, created } = await services.files.put(path, {
      contentType: request.headers.get('content-type'),
      contentLength: request.headers.get('content-length'),
      body: request.body as AsyncIterable<Uint8Array> | null,
    });
    return json(created ? 201 : 200, file, {
      etag: file.etag,
      ...(created ? { location: `/api/files/${file.path}` } : {}),
    });
  },
});
