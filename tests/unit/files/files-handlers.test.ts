import { invokeHandler } from '../../helpers/invoke-handler';
import { type HttpHandler } from '@azure/functions';
import { filesDelete } from '../../../functions/files-delete';
import { filesGet } from '../../../functions/files-get';
import { filesList } from '../../../functions/files-list';
import { filesPut } from '../../../functions/files-put';
import { setServices, type Services } from '../../../shared/container';
import { TEST_ADMIN_KEY, makeTestServices } from '../../helpers/test-services';

interface Call {
  method?: string;
  key?: string;
  path?: string;
  query?: Record<string, string>;
  body?: Buffer | string;
  headers?: Record<string, string>;
}

async function call(
  handler: HttpHandler,
  { method = 'GET', key = TEST_ADMIN_KEY, path, query = {}, body, headers = {} }: Call,
) {
  const res = await invokeHandler(handler, {
    method,
    key,
    url: `http://localhost/api/files${path ? `/${path}` : ''}`,
    params: path !== undefined ? { path } : {},
    query,
    headers,
    // File bodies are raw bytes, never JSON.
    ...(body !== undefined ? { body: Buffer.from(body) } : {}),
  });
  const isJson = /json/.test(res.headers.get('content-type') ?? '');
  return {
    status: res.status,
    headers: res.headers,
    bytes: res.bytes,
    json: isJson && res.bytes.length > 0 ? (JSON.parse(res.raw) as Record<string, unknown>) : undefined,
  };
}

describe('files routes (test-mode HttpRequest / InvocationContext)', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let userKey: string;
  let serviceKey: string;

  beforeEach(async () => {
    ({ services, cleanup } = makeTestServices({ BRIDGE_FILES_MAX_BYTES: '1024' }));
    setServices(services);
    userKey = (await services.apiKeys.issue('user', 'user portal')).key;
    serviceKey = (await services.apiKeys.issue('service', 'backend')).key;
  });
  afterEach(async () => {
    setServices(undefined);
    await cleanup();
  });

  const upload = (
    path: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
    key = TEST_ADMIN_KEY,
  ) =>
    call(filesPut, { method: 'PUT', path, body, key, headers: { 'content-type': 'text/plain', ...headers } });

  it('PUT creates (201, location) then replaces (200), returning the file with its ETag', async () => {
    const created = await upload('users/ann/cv.txt', 'hello world');
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ path: 'users/ann/cv.txt', size: 11, contentType: 'text/plain' });
    expect(created.headers.get('etag')).toBe(created.json?.etag);
    expect(created.headers.get('location')).toBe('/api/files/users/ann/cv.txt');
    expect(typeof created.json?.lastModified).toBe('string');
    const replaced = await upload('users/ann/cv.txt', 'bye', { 'content-type': 'application/pdf' });
    expect(replaced.status).toBe(200);
    expect(replaced.json).toMatchObject({ size: 3, contentType: 'application/pdf' });
    expect(replaced.json?.etag).not.toBe(created.json?.etag);
  });

  it('PUT over BRIDGE_FILES_MAX_BYTES is 413: by declared length, or while streaming; nothing is stored', async () => {
    const declared = await upload('a/big', 'x', { 'content-length': '5000' });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toMatch(/problem\+json/);
    const streamed = await upload('a/big', Buffer.alloc(2000, 1));
    expect(streamed.status).toBe(413);
    expect((await call(filesGet, { path: 'a/big' })).status).toBe(404);
    expect((await upload('a/exact', Buffer.alloc(1024, 1))).status).toBe(201);
  });

  it('PUT refuses bad paths and content types with 400', async () => {
    for (const path of ['../x', 'a//b', 'a/.hidden', 'users/ann', 'a b']) {
      const res = await upload(path, 'x');
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        type: 'urn:portal-bridge:problem:validation',
        errors: [{ path: 'path' }],
      });
    }
    expect((await call(filesPut, { method: 'PUT', body: 'x' })).status).toBe(400);
    expect((await upload('a/b', 'x', { 'content-type': 'nonsense' })).status).toBe(400);
  });

  it('GET streams the file with etag, type, length and accept-ranges; 404 when missing', async () => {
    const { json } = await upload('docs/readme.md', '# Portal Bridge', { 'content-type': 'text/markdown' });
    const res = await call(filesGet, { path: 'docs/readme.md' });
    expect(res.status).toBe(200);
    expect(res.bytes.toString()).toBe('# Portal Bridge');
    expect(res.headers.get('etag')).toBe(json?.etag);
    expect(res.headers.get('content-type')).toBe('text/markdown');
    expect(res.headers.get('content-length')).toBe('15');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('last-modified')).toBe(new Date(json?.lastModified as string).toUTCString());
    expect((await call(filesGet, { path: 'docs/nothing.md' })).status).toBe(404);
  });

  it('GET with Range answers 206 with content-range, and 416 for a range beyond the file', async () => {
    await upload('r/digits', '0123456789');
    const part = await call(filesGet, { path: 'r/digits', headers: { range: 'bytes=3-5' } });
    expect(part.status).toBe(206);
    expect(part.bytes.toString()).toBe('345');
    expect(part.headers.get('content-range')).toBe('bytes 3-5/10');
    expect(part.headers.get('content-length')).toBe('3');
    const suffix = await call(filesGet, { path: 'r/digits', headers: { range: 'bytes=-2' } });
    expect(suffix.status).toBe(206);
    expect(suffix.bytes.toString()).toBe('89');
    const beyond = await call(filesGet, { path: 'r/digits', headers: { range: 'bytes=10-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */10');
    expect(beyond.json).toMatchObject({
      status: 416,
      type: 'urn:portal-bridge:problem:range-not-satisfiable',
    });
    const ignored = await call(filesGet, { path: 'r/digits', headers: { range: 'bytes=1-2,4-5' } });
    expect(ignored.status).toBe(200);
    expect(ignored.bytes.toString()).toBe('0123456789');
  });

  it('GET with If-None-Match answers 304 without a body while the ETag holds', async () => {
    const { json } = await upload('c/x', 'v1');
    const etag = json?.etag as string;
    const cached = await call(filesGet, { path: 'c/x', headers: { 'if-none-match': etag } });
    expect(cached.status).toBe(304);
    expect(cached.bytes.length).toBe(0);
    expect(cached.headers.get('etag')).toBe(etag);
    expect((await call(filesGet, { path: 'c/x', headers: { 'if-none-match': '*' } })).status).toBe(304);
    await upload('c/x', 'v2');
    const fresh = await call(filesGet, { path: 'c/x', headers: { 'if-none-match': etag } });
    expect(fresh.status).toBe(200);
    expect(fresh.bytes.toString()).toBe('v2');
  });

  it('DELETE answers 204, then 404', async () => {
    await upload('d/x', 'x');
    expect((await call(filesDelete, { method: 'DELETE', path: 'd/x' })).status).toBe(204);
    expect((await call(filesDelete, { method: 'DELETE', path: 'd/x' })).status).toBe(404);
    expect((await call(filesGet, { path: 'd/x' })).status).toBe(404);
  });

  it('lists with prefix, limit and continuation; GET /files without a path is the listing', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await upload(`l/${name}.txt`, name);
    await upload('other/z.txt', 'z');
    const first = await call(filesList, { query: { prefix: 'l/', limit: '2' } });
    expect(first.status).toBe(200);
    expect((first.json?.files as { path: string }[]).map((f) => f.path)).toEqual(['l/a.txt', 'l/b.txt']);
    expect(first.json?.files).toEqual([
      expect.objectContaining({
        size: 1,
        contentType: 'text/plain',
        etag: expect.any(String),
        lastModified: expect.any(String),
      }),
      expect.anything(),
    ]);
    const seen: string[] = [];
    let continuation = first.json?.continuation as string | null;
    seen.push(...(first.json?.files as { path: string }[]).map((f) => f.path));
    while (continuation) {
      const page = await call(filesGet, { query: { prefix: 'l/', limit: '2', continuation } });
      expect(page.status).toBe(200);
      seen.push(...(page.json?.files as { path: string }[]).map((f) => f.path));
      continuation = page.json?.continuation as string | null;
    }
    expect(seen).toEqual(['l/a.txt', 'l/b.txt', 'l/c.txt', 'l/d.txt', 'l/e.txt']);
    const all = await call(filesList, {});
    expect((all.json?.files as unknown[]).length).toBe(6);
    expect(all.json?.continuation).toBeNull();
    expect((await call(filesList, { query: { limit: '0' } })).status).toBe(400);
    expect((await call(filesList, { query: { continuation: 'forged' } })).status).toBe(400);
  });

  it('a user key touches only users/…; admin and service keys any path; no key is 401', async () => {
    expect((await upload('users/ann/a.txt', 'a', {}, userKey)).status).toBe(201);
    expect((await call(filesGet, { path: 'users/ann/a.txt', key: userKey })).status).toBe(200);
    const denied = await upload('reports/q1.txt', 'x', {}, userKey);
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ type: 'urn:portal-bridge:problem:forbidden' });
    expect((await upload('reports/q1.txt', 'x', {}, serviceKey)).status).toBe(201);
    expect((await call(filesGet, { path: 'reports/q1.txt', key: userKey })).status).toBe(403);
    expect((await call(filesDelete, { method: 'DELETE', path: 'reports/q1.txt', key: userKey })).status).toBe(
      403,
    );
    expect((await call(filesGet, { path: 'reports/q1.txt', key: TEST_ADMIN_KEY })).status).toBe(200);
    // Listing: a user key sees users/ only (by default), and may not list elsewhere.
    const mine = await call(filesList, { key: userKey });
    expect((mine.json?.files as { path: string }[]).map((f) => f.path)).toEqual(['users/ann/a.txt']);
    expect((await call(filesList, { key: userKey, query: { prefix: 'reports/' } })).status).toBe(403);
    expect((await call(filesGet, { path: 'users/ann/a.txt', key: '' })).status).toBe(401);
    expect((await call(filesList, { key: '' })).status).toBe(401);
    // Denied writes changed nothing.
    expect((await call(filesGet, { path: 'reports/q1.txt' })).bytes.toString()).toBe('x');
  });
});
