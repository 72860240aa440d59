import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SiteNotBuiltError, type StaticAsset, type StaticAssets } from '../../ports/static-assets';

/** Bounds on what one site may hold (the built dashboard and docs are a few MiB). */
const MAX_FILES = 500;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The directory with package.json above `from`: the project (or deployment package) root. */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/**
 * Serves `<package root>/dist/web/<site>/` from memory: every file of a site is read once, on
 * its first request, into a map keyed by its relative path, so a request can only ever name a
 * file that exists there (no path is ever joined from request input).
 */
export class FileStaticAssets implements StaticAssets {
  private readonly sites = new Map<string, Map<string, StaticAsset>>();
  private readonly root: string;

  constructor(root?: string) {
    this.root = root ?? path.join(packageRoot(__dirname), 'dist', 'web');
  }

  async get(site: string, assetPath: string): Promise<StaticAsset | undefined> {
    let files = this.sites.get(site);
    if (!files) {
      files = this.load(site);
      this.sites.set(site, files);
    }
    return files.get(assetPath);
  }

  private load(site: string): Map<string, StaticAsset> {
    const dir = path.join(this.root, site);
    if (!/^[a-z][a-z0-9-]*$/.test(site) || !fs.existsSync(dir)) {
      throw new SiteNotBuiltError(`the ${site} pages are not built (${dir} is missing; run npm run build)`);
    }
    const files = new Map<string, StaticAsset>();
    let total = 0;
    const walk = (relative: string) => {
      for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
        const rel = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) walk(rel);
        if (!entry.isFile()) continue;
        const body = fs.readFileSync(path.join(dir, rel));
        total += body.length;
        if (files.size >= MAX_FILES || total > MAX_TOTAL_BYTES) {
          throw new Error(`the ${site} site exceeds ${MAX_FILES} files or ${MAX_TOTAL_BYTES} bytes`);
        }
        files.set(rel, {
          body,
          contentType: CONTENT_TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream',
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        });
      }
    };
    walk('');
    return files;
  }
}
