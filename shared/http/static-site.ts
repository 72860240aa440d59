import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { Services } from '../composition/services';
import { SiteNotBuiltError } from '../ports/static-assets';
import { ProblemError } from './problem-error';

/**
 * The bridge's own web pages (the admin dashboard, the API docs): built assets served from the
 * deployment package with a strict Content-Security-Policy — scripts, styles, images and fetches
 * only from this origin, no inline script or style, no framing — and ETag revalidation.
 */

/** A path inside a site: 1-4 segments of letters, digits, `.`, `_`, `-`, none starting with a dot. */
export const assetPathParam = z
  .string()
  .regex(
    /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}(\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){0,3}$/,
    'must be 1-4 /-separated segments of letters, digits, ., _ and - (not starting with .)',
  );

/** The `{*asset}` of a site's route: a path, or nothing (`''` or absent) for its page. */
export const siteAssetParam = assetPathParam.or(z.literal('')).optional();

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
});

/**
 * A site's page (no asset: its index.html) or one of its files. The page's links are relative to
 * `<prefix>/<site>` without a trailing slash, so `<site>/` is redirected there.
 */
export async function serveSite(
  services: Services,
  request: HttpRequest,
  site: string,
  asset: string | undefined,
): Promise<HttpResponseInit> {
  if (!asset && new URL(request.url).pathname.endsWith('/')) {
    const url = new URL(request.url);
    return { status: 308, headers: { ...SECURITY_HEADERS, location: url.pathname.replace(/\/+$/, '') } };
  }
  return serveAsset(services, request, site, asset || 'index.html');
}

/** `site`'s file `path` (404 problem when there is none), or 304 when the client's copy is current. */
export async function serveAsset(
  services: Services,
  request: HttpRequest,
  site: string,
  path: string,
): Promise<HttpResponseInit> {
  let asset;
  try {
    asset = await services.assets.get(site, path);
  } catch (error) {
    if (!(error instanceof SiteNotBuiltError)) throw error;
    throw new ProblemError({
      status: 503,
      type: 'not-built',
      title: 'Pages not built',
      detail: error.message,
    });
  }
  if (!asset) {
    throw new ProblemError({
      status: 404,
      type: 'not-found',
      title: 'Not found',
      detail: `No asset ${path}.`,
    });
  }
  const headers = { ...SECURITY_HEADERS, etag: asset.etag, 'cache-control': 'no-cache' };
  const presented = request.headers.get('if-none-match');
  if (presented && presented.split(',').some((tag) => tag.trim() === asset.etag)) {
    return { status: 304, headers };
  }
  return { status: 200, body: asset.body, headers: { ...headers, 'content-type': asset.contentType } };
}
