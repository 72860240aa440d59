/**
 * The bridge's own pages (dashboard, docs) are served from the built files only, with a strict CSP,
 * ETag revalidation, a redirect for the trailing slash, and a clear 503 when they were never built.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpRequest } from '@azure/functions';
import { FileStaticAssets } from '../../../shared/adapters/static/file-static-assets';
import type { Services } from '../../../shared/container';
import { ProblemError } from '../../../shared/http/problem-error';
import { siteAssetParam, serveSite } from '../../../shared/http/static-site';

let root: string;
let services: Services;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-web-'));
  fs.mkdirSync(path.join(root, 'dashboard', 'nested'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dashboard', 'index.html'), '<!doctype html><title>x</title>');
  fs.writeFileSync(path.join(root, 'dashboard', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(root, 'dashboard', 'nested', 'a.css'), 'body{}');
  services = { assets: new FileStaticAssets(root) } as unknown as Services;
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const request = (url: string, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: 'GET', url: `http://localhost/api/${url}`, headers });

describe('serveSite', () => {
  it('serves the page for no asset, and files by their path, with the security headers', async () => {
    const page = await serveSite(services, request('dashboard'), 'dashboard', undefined);
    expect(page.status).toBe(200);
    expect(Buffer.from(page.body as Uint8Array).toString()).toContain('<title>x</title>');
    const headers = page.headers as Record<string, string>;
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toMatch(
      /default-src 'none'; script-src 'self'; style-src 'self'/,
    );
    expect(headers['x-frame-options']).toBe('DENY');
    const css = await serveSite(services, request('dashboard/nested/a.css'), 'dashboard', 'nested/a.css');
    expect((css.headers as Record<string, string>)['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers 304 for a current ETag', async () => {
    const first = await serveSite(services, request('dashboard/app.js'), 'dashboard', 'app.js');
    const etag = (first.headers as Record<string, string>).etag as string;
    const again = await serveSite(
      services,
      request('dashboard/app.js', { 'if-none-match': `"x", ${etag}` }),
      'dashboard',
      'app.js',
    );
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
  });

  it('redirects <site>/ to <site>, whose relative links the page uses', async () => {
    const res = await serveSite(services, request('dashboard/'), 'dashboard', '');
    expect(res).toMatchObject({
      status: 308,
      headers: expect.objectContaining({ location: '/api/dashboard' }),
    });
  });

  it('404 for a file the build did not produce; 503 naming the cause when the site was never built', async () => {
    await expect(serveSite(services, request('dashboard/x.js'), 'dashboard', 'x.js')).rejects.toMatchObject({
      problem: { status: 404 },
    });
    const missing = serveSite(services, request('docs'), 'docs', undefined);
    await expect(missing).rejects.toBeInstanceOf(ProblemError);
    await expect(missing).rejects.toMatchObject({
      problem: { status: 503, detail: expect.stringMatching(/npm run build/) },
    });
  });

  it('the asset parameter admits only plain relative paths', () => {
    for (const ok of ['app.js', 'nested/a.css', 'a-b_c.1.js', '', undefined])
      expect([ok, siteAssetParam.safeParse(ok).success]).toEqual([ok, true]);
    for (const bad of ['../x', '.env', 'a/../b', 'a//b', '/abs', 'a\\b', 'a/b/c/d/e', 'x'.repeat(101), 'a?b'])
      expect([bad, siteAssetParam.safeParse(bad).success]).toEqual([bad, false]);
  });
});
