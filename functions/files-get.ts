import { z } from 'zod';
import { problem } from '../shared/http/http-response';
import { filePathParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { assertMayTouchFile } from '../shared/services/access-policy';
import { filesList } from './files-list';

/** Headers that keep a stored file from being interpreted as part of the API's own origin. */
const SAFE_CONTENT = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cache-control': 'private, no-cache',
};

/**
 * Downloads a file, streamed, with etag / content-type / content-length / accept-ranges. One
 * `Range: bytes=…` gives 206 with content-range (416 when it lies beyond the file);
 * `If-None-Match` with the current ETag gives 304.
 */
export const filesGet = route('files-get', {
  methods: ['GET'],
  route: 'files/{*path}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'files' },
  // `files/{*path}` also matches `/api/files` itself (an empty catch-all) on some hosts; without a
  // path, GET is the listing, whichever registration the host picked.
  params: z.object({ path: z.preprocess((p) => (p === '' ? undefined : p), filePathParam.optional()) }),
  summary: 'Download a file, streamed, with ranges and conditional requests (no path: the listing)',
  tags: ['files'],
  handler: async ({ request, context, params, services, principal }) => {
    if (!params.path) return filesList(request, context);
    const path = services.files.checkPath(params.path);
    assertMayTouchFile(principal, path);
    const result = await services.files.read(path, {
      range: request.headers.get('range'),
      ifNoneMatch: request.headers.get('if-none-match'),
    });
    if (result.kind === 'not-modified') {
      const { etag, lastModified } = result.properties;
      return {
        status: 304,
        headers: { etag, 'last-modified': new Date(lastModified).toUTCString(), ...SAFE_CONTENT },
      };
    }
    if (result.kind === 'unsatisfiable') {
      const { size, etag } = result.properties;
      return problem(
        {
          status: 416,
          type: 'range-not-satisfiable',
          title: 'Range not satisfiable',
          detail: `The requested range lies outside the file (${size} bytes).`,
        },
        { 'content-range': `bytes */${size}`, 'accept-ranges': 'bytes', etag },
      );
    }
    const { properties, body } = result.content;
    const headers: Record<string, string> = {
      'content-type': properties.contentType,
      etag: properties.etag,
      'last-modified': new Date(properties.lastModified).toUTCString(),
      'accept-ranges': 'bytes',
      ...SAFE_CONTENT,
    };
    if (result.range) {
      const { start, end } = result.range;
      headers['content-range'] = `bytes ${start}-${end}/${properties.size}`;
      headers['content-length'] = String(end - start + 1);
      return { status: 206, headers, body };
    }
    headers['content-length'] = String(properties.size);
    return { status: 200, headers, body };
  },
});
