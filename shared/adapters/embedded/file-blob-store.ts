import { decodeListingContinuation, encodeListingContinuation } from '../blob-continuation';
import { randomBytes, randomUUID } from 'node:crypto';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, ensurePrivateDir } from './private-files';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { Clock } from '../../ports/clock';
import {
  BlobStoreError,
  isSafeBlobPath,
  type BlobContent,
  type BlobPage,
  type BlobProperties,
  type BlobPutOptions,
  type BlobStore,
  type ByteRange,
} from '../../ports/blob-store';

/**
 * The embedded BlobStore: files under `<dataDir>/files`.
 *
 * Layout: a file `a/b/name` is `objects/a.d/b.d/name.meta.json` (its properties: the sidecar) and
 * `objects/a.d/b.d/name.<version>.blob` (its bytes). Folders end in `.d`, so a path can be both a
 * file and a folder (`a/b` and `a/b/c`) as on Blob Storage. Every write streams into `tmp/`, is
 * renamed next to its sidecar under a fresh version, and becomes visible when the new sidecar is
 * renamed over the old one (the commit point); the old bytes are removed after. Readers open the
 * bytes the sidecar names, so they always see one whole version. Writes to one path are serialised
 * in-process (the embedded store serves one process).
 *
 * Paths are checked against the port's rule (segments of safe characters, no "." / ".."), and every
 * resolved location is checked to stay inside the root, so no path can reach outside it.
 */

interface Sidecar {
  path: string;
  size: number;
  contentType: string;
  etag: string;
  lastModified: string;
  /** File name of the bytes, next to the sidecar. */
  data: string;
}

const META_SUFFIX = '.meta.json';

/** A sidecar that cannot be read: that one file is unusable, the rest of the store is not. */
class DamagedSidecarError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'DamagedSidecarError';
  }
}

function isSidecar(value: unknown): value is Sidecar {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.path === 'string' &&
    typeof v.size === 'number' &&
    typeof v.contentType === 'string' &&
    typeof v.etag === 'string' &&
    typeof v.lastModified === 'string' &&
    typeof v.data === 'string'
  );
}
const DIR_SUFFIX = '.d';
const BLOB_SUFFIX = '.blob';

export interface FileBlobStoreOptions {
  clock?: Clock;
  /** `full`: fsync the bytes, the sidecar and their folder on every write (survives power loss). */
  durability?: 'normal' | 'full';
}

const isErrno = (error: unknown, ...codes: string[]): boolean =>
  typeof error === 'object' && error !== null && codes.includes((error as NodeJS.ErrnoException).code ?? '');

export class FileBlobStore implements BlobStore {
  private readonly objects: string;
  private readonly tmp: string;
  private readonly clock: Clock;
  private readonly durability: 'normal' | 'full';
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(root: string, options: FileBlobStoreOptions = {}) {
    const resolved = path.resolve(root);
    this.objects = path.join(resolved, 'objects');
    this.tmp = path.join(resolved, 'tmp');
    this.clock = options.clock ?? { now: () => Date.now() };
    this.durability = options.durability ?? 'normal';
    ensurePrivateDir(resolved);
    ensurePrivateDir(this.objects);
    ensurePrivateDir(this.tmp);
    // Left-overs of writes a crash interrupted; nothing refers to them.
    for (const name of fs.readdirSync(this.tmp)) fs.rmSync(path.join(this.tmp, name), { force: true });
  }

  async put(
    blobPath: string,
    body: AsyncIterable<Uint8Array>,
    { contentType, maxBytes }: BlobPutOptions,
  ): Promise<{ properties: BlobProperties; created: boolean }> {
    const { dir, leaf } = this.locate(blobPath);
    const staged = path.join(this.tmp, randomUUID());
    let size = 0;
    const handle = await fsp.open(staged, 'wx', PRIVATE_FILE_MODE);
    try {
      try {
        for await (const chunk of body) {
          size += chunk.byteLength;
          if (size > maxBytes) {
            throw new BlobStoreError('too-large', `The file exceeds the limit of ${maxBytes} bytes.`);
          }
          await handle.write(chunk);
        }
        if (this.durability === 'full') await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      await fsp.rm(staged, { force: true });
      throw error;
    }

    return this.withLock(blobPath, async () => {
      try {
        await fsp.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
        const previous = await this.readSidecar(dir, leaf);
        const version = randomBytes(12).toString('hex');
        const data = `${leaf}.${version}${BLOB_SUFFIX}`;
        await fsp.rename(staged, path.join(dir, data));
        const sidecar: Sidecar = {
          path: blobPath,
          size,
          contentType,
          etag: `"${version}"`,
          lastModified: new Date(this.clock.now()).toISOString(),
          data,
        };
        await this.writeAtomically(path.join(dir, leaf + META_SUFFIX), JSON.stringify(sidecar));
        if (this.durability === 'full') await this.syncDir(dir);
        if (previous) await fsp.rm(path.join(dir, previous.data), { force: true });
        return { properties: toProperties(sidecar), created: !previous };
      } finally {
        await fsp.rm(staged, { force: true });
      }
    });
  }

  async stat(blobPath: string): Promise<BlobProperties | undefined> {
    const { dir, leaf } = this.locate(blobPath);
    const sidecar = await this.readSidecar(dir, leaf);
    return sidecar && toProperties(sidecar);
  }

  async read(
    blobPath: string,
    options: { range?: ByteRange; ifMatch?: string } = {},
  ): Promise<BlobContent | undefined> {
    const { dir, leaf } = this.locate(blobPath);
    // A concurrent write may remove the bytes between reading the sidecar and opening them; the
    // sidecar then names newer bytes, so look again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const sidecar = await this.readSidecar(dir, leaf);
      if (!sidecar) return undefined;
      if (options.ifMatch !== undefined && sidecar.etag !== options.ifMatch) {
        throw new BlobStoreError('changed', `${blobPath} changed (ETag ${sidecar.etag}).`);
      }
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(this.inside(path.join(dir, sidecar.data)), 'r');
      } catch (error) {
        if (isErrno(error, 'ENOENT')) continue;
        throw error;
      }
      if (sidecar.size === 0) {
        await handle.close();
        return { properties: toProperties(sidecar), body: Readable.from([]) };
      }
      const { start = 0, end = sidecar.size - 1 } = options.range ?? {};
      return {
        properties: toProperties(sidecar),
        body: handle.createReadStream({ start, end, autoClose: true }),
      };
    }
    throw new Error(`${blobPath} kept changing while it was being opened.`);
  }

  async delete(blobPath: string): Promise<boolean> {
    const { dir, leaf } = this.locate(blobPath);
    return this.withLock(blobPath, async () => {
      const sidecar = await this.readSidecar(dir, leaf);
      if (!sidecar) return false;
      await fsp.rm(path.join(dir, leaf + META_SUFFIX), { force: true });
      if (this.durability === 'full') await this.syncDir(dir);
      await fsp.rm(path.join(dir, sidecar.data), { force: true });
      return true;
    });
  }

  async list({
    prefix = '',
    continuation,
    limit,
  }: {
    prefix?: string;
    continuation?: string;
    limit: number;
  }): Promise<BlobPage> {
    const after =
      continuation === undefined
        ? undefined
        : decodeListingContinuation(continuation, prefix, isSafeBlobPath);
    const items: BlobProperties[] = [];
    const damaged: { path: string; reason: string }[] = [];
    let more = false;

    // Depth-first, siblings ordered by their name with "/" appended for folders: that visits paths in
    // plain string order, the order Blob Storage lists in. Folders wholly before the cursor or outside
    // the prefix are skipped without reading them.
    const walk = async (dir: string, folder: string): Promise<boolean> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isErrno(error, 'ENOENT', 'ENOTDIR')) return true;
        throw error;
      }
      const children: { key: string; name: string; isDir: boolean }[] = [];
      for (const entry of entries) {
        if (entry.isDirectory() && entry.name.endsWith(DIR_SUFFIX)) {
          const name = entry.name.slice(0, -DIR_SUFFIX.length);
          children.push({ key: `${folder}${name}/`, name: entry.name, isDir: true });
        } else if (entry.isFile() && entry.name.endsWith(META_SUFFIX)) {
          const name = entry.name.slice(0, -META_SUFFIX.length);
          children.push({ key: `${folder}${name}`, name: entry.name, isDir: false });
        }
      }
      children.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const child of children) {
        if (child.isDir) {
          const within = child.key.startsWith(prefix) || prefix.startsWith(child.key);
          const beforeCursor = after !== undefined && child.key <= after && !after.startsWith(child.key);
          if (!within || beforeCursor) continue;
          if (!(await walk(path.join(dir, child.name), child.key))) return false;
        } else {
          if (!child.key.startsWith(prefix) || (after !== undefined && child.key <= after)) continue;
          let sidecar: Sidecar | undefined;
          try {
            sidecar = await this.readSidecarFile(path.join(dir, child.name));
          } catch (error) {
            if (!(error instanceof DamagedSidecarError)) throw error;
            damaged.push({ path: child.key, reason: error.reason });
            continue;
          }
          if (!sidecar) continue;
          if (items.length === limit) {
            more = true;
            return false;
          }
          items.push(toProperties(sidecar));
        }
      }
      return true;
    };
    await walk(this.objects, '');
    const last = items[items.length - 1];
    return {
      items,
      ...(more && last ? { continuation: encodeListingContinuation(last.path, prefix) } : {}),
      ...(damaged.length > 0 ? { damaged } : {}),
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.locks.values()]);
  }

  /** The folder and leaf name of a path, after checking it cannot leave the root. */
  private locate(blobPath: string): { dir: string; leaf: string } {
    if (!isSafeBlobPath(blobPath)) throw new Error(`Unsafe file path refused: ${JSON.stringify(blobPath)}`);
    const segments = blobPath.split('/');
    const leaf = segments.pop() as string;
    const dir = this.inside(path.join(this.objects, ...segments.map((s) => s + DIR_SUFFIX)));
    return { dir, leaf };
  }

  private inside(location: string): string {
    const relative = path.relative(this.objects, location);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new Error(`Refused a location outside the file store: ${location}`);
    }
    return location;
  }

  private readSidecar(dir: string, leaf: string): Promise<Sidecar | undefined> {
    return this.readSidecarFile(path.join(dir, leaf + META_SUFFIX));
  }

  private async readSidecarFile(file: string): Promise<Sidecar | undefined> {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined;
      throw error;
    }
    let sidecar: unknown;
    try {
      sidecar = JSON.parse(text);
    } catch {
      throw new DamagedSidecarError(file, 'its sidecar is not valid JSON');
    }
    if (!isSidecar(sidecar)) throw new DamagedSidecarError(file, 'its sidecar lacks required fields');
    return sidecar;
  }

  private async writeAtomically(file: string, text: string): Promise<void> {
    const staged = path.join(this.tmp, randomUUID());
    try {
      const handle = await fsp.open(staged, 'wx', PRIVATE_FILE_MODE);
      try {
        await handle.writeFile(text, 'utf8');
        if (this.durability === 'full') await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(staged, file);
    } finally {
      await fsp.rm(staged, { force: true });
    }
  }

  private async syncDir(dir: string): Promise<void> {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return next;
  }
}

function toProperties(sidecar: Sidecar): BlobProperties {
  return {
    path: sidecar.path,
    size: sidecar.size,
    contentType: sidecar.contentType,
    etag: sidecar.etag,
    lastModified: sidecar.lastModified,
  };
}

/** The embedded store of a data directory: `<dataDir>/files`. */
export function openFileBlobStore(dataDir: string, options: FileBlobStoreOptions = {}): FileBlobStore {
  return new FileBlobStore(path.join(dataDir, 'files'), options);
}
