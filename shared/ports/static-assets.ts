/**
 * StaticAssets: the built web pages the bridge serves itself (the admin dashboard, the API docs),
 * read from the deployment package. A `site` is one directory of built assets (`dashboard`, `docs`);
 * a path names a file inside it, `/`-separated.
 */
export interface StaticAsset {
  body: Buffer;
  contentType: string;
  /** Strong ETag of the content. */
  etag: string;
}

export interface StaticAssets {
  /** The asset, or undefined when the site has no such file. Throws when the site was never built. */
  get(site: string, path: string): Promise<StaticAsset | undefined>;
}

/** The site's directory is missing: the deployment was not built with `npm run build`. */
export class SiteNotBuiltError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteNotBuiltError';
  }
}
