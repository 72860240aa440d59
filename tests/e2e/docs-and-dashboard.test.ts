/**
 * The pages the bridge serves itself, over HTTP from the local host: the OpenAPI document (public,
 * every route), the API reference page and the admin dashboard (static files with a strict CSP,
 * ETag revalidation, nothing outside the built files reachable).
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { httpFunctionFileNames } from '../helpers/all-routes';

let host: LocalHostProcess;
beforeAll(async () => {
  host = await startLocalHostProcess({ startTimeoutMs: 60_000 });
}, 90_000);
afterAll(async () => {
  await cleanupLocalHosts();
});

test('GET /api/openapi.json: OpenAPI 3.1, without a key, naming every HTTP function', async () => {
  const res = await fetch(`${host.baseUrl}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const doc = (await res.json()) as { openapi: string; paths: unknown };
  expect(doc.openapi).toBe('3.1.0');
  // One operation per route and method: named after the function, with the method for routes that have several.
  const operationIds = new Set(
    Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) =>
      Object.values(item).map((op) => op.operationId),
    ),
  );
  const documented = (name: string) =>
    operationIds.has(name) ||
    ['get', 'post', 'put', 'delete', 'patch'].some((m) => operationIds.has(`${name}-${m}`));
  const expected = httpFunctionFileNames();
  expect(expected.length).toBeGreaterThan(50);
  expect(expected.filter((name) => !documented(name))).toEqual([]);
});

test.each([
  ['/docs', /^text\/html/, /Portal Bridge API reference/],
  ['/docs/swagger-ui-bundle.js', /^text\/javascript/, /SwaggerUIBundle/],
  ['/docs/docs.js', /^text\/javascript/, /openapi\.json/],
  ['/dashboard', /^text\/html/, /Sign in/],
  ['/dashboard/app.js', /^text\/javascript/, /sessionStorage/],
  ['/dashboard/uPlot.min.css', /^text\/css/, /uplot/],
])('GET /api%s: served with a strict CSP', async (path, type, content) => {
  const res = await fetch(`${host.baseUrl}${path}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(type);
  expect(await res.text()).toMatch(content);
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  // Revalidation: the same ETag answers 304 without a body.
  const etag = res.headers.get('etag') ?? '';
  expect(etag).toMatch(/^"[\w-]+"$/);
  const again = await fetch(`${host.baseUrl}${path}`, { headers: { 'if-none-match': etag } });
  expect(again.status).toBe(304);
});

test('the pages hold no inline script or style', async () => {
  for (const page of ['/dashboard', '/docs']) {
    const html = await (await fetch(`${host.baseUrl}${page}`)).text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  }
});

test('only built files are reachable: unknown assets 404, malformed paths 400, a trailing slash redirects', async () => {
  expect((await fetch(`${host.baseUrl}/dashboard/nope.js`)).status).toBe(404);
  expect((await fetch(`${host.baseUrl}/dashboard/.hidden`)).status).toBe(400);
  expect((await fetch(`${host.baseUrl}/dashboard/%2e%2e%2fpackage.json`)).status).toBe(400);
  expect((await fetch(`${host.baseUrl}/docs/a/b/c/d/e`)).status).toBe(400);
  const slash = await fetch(`${host.baseUrl}/dashboard/`, { redirect: 'manual' });
  expect(slash.status).toBe(308);
  expect(slash.headers.get('location')).toBe('/api/dashboard');
});

test('the dashboard page itself is public, the data behind it is not', async () => {
  expect((await fetch(`${host.baseUrl}/dashboard`)).status).toBe(200);
  expect((await fetch(`${host.baseUrl}/metrics`)).status).toBe(401);
  expect((await fetch(`${host.baseUrl}/lockstep/status`)).status).toBe(401);
});
