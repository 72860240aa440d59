import { app, type HttpHandler } from '@azure/functions';
import { problem } from '../shared/http/http-response';
import { forbidden } from '../shared/http/problem-error';
import { route } from '../shared/http/route';
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
const getFile = route({ roles: ['admin', 'user', 'service'] }, async ({ request, services, principal }) => {
  const access = services.files.access(principal.role, request.params.path);
  if (!access.allowed) throw forbidden(access.reason);
  const result = await services.files.read(access.path, {
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
});

/**
 * `files/{*path}` also matches `/api/files` itself (an empty catch-all) on some hosts; without a
 * path, GET is the listing, whichever registration the host picked.
 */
export const filesGet: HttpHandler = (request, context) =>
  request.params.path ? getFile(request, context) : filesList(request, context);

app.http('files-get', {
  methods: ['GET'],
  route: 'files/{*path}',
  authLevel: 'anonymous',
  handler: filesGet,
});
