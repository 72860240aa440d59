/**
 * The BlobStore contract: the embedded file store and Azure Blob Storage (through Azurite) run
 * this suite. Call describeBlobStoreContract from a *.test.ts file with a factory that makes an
 * empty store.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BlobStoreError, type BlobStore } from '../../shared/ports/blob-store';

export type BlobStoreFactory = () => Promise<{ store: BlobStore; cleanup: () => Promise<void> }>;

const MIB = 1024 * 1024;

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A body of `chunks` pieces, as an upload streams it. */
export async function* chunked(data: Buffer, chunkSize = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let at = 0; at < data.length; at += chunkSize) {
    await Promise.resolve();
    yield new Uint8Array(data.subarray(at, at + chunkSize));
  }
}

async function expectBlobError(work: Promise<unknown>, code: BlobStoreError['code']): Promise<void> {
  let caught: unknown;
  try {
    await work;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BlobStoreError);
  expect((caught as BlobStoreError).code).toBe(code);
}

/** What a store (or the emulator standing in for it) can show. */
export interface BlobStoreCapabilities {
  /**
   * The service checks a link's signature against the method and its expiry (Blob Storage,
   * Azurite and S3 do; s3rver accepts a PUT through a GET-presigned URL). Without it the contract
   * only checks that the link downloads the file. Default true.
   */
  enforcesLinks?: boolean;
}

export function describeBlobStoreContract(
  name: string,
  factory: BlobStoreFactory,
  capabilities: BlobStoreCapabilities = {},
): void {
  const enforcesLinks = capabilities.enforcesLinks ?? true;
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    const put = (path: string, data: Buffer | string, contentType = 'text/plain', maxBytes = 10 * MIB) =>
      store.put(path, chunked(Buffer.from(data)), { contentType, maxBytes });

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup?.();
    });

    it('creates a file with its content type, size, a quoted ETag and an ISO time', async () => {
      const { properties, created } = await put(
        'users/ann/cv.txt',
        'hello world',
        'text/plain; charset=utf-8',
      );
      expect(created).toBe(true);
      expect(properties).toMatchObject({
        path: 'users/ann/cv.txt',
        size: 11,
        contentType: 'text/plain; charset=utf-8',
      });
      expect(properties.etag).toMatch(/^"[^"]+"$/);
      expect(new Date(properties.lastModified).toISOString()).toBe(properties.lastModified);
      expect(await store.stat('users/ann/cv.txt')).toEqual(properties);
      const content = await store.read('users/ann/cv.txt');
      expect(content?.properties).toEqual(properties);
      expect((await readAll(content!.body)).toString()).toBe('hello world');
    });

    it('replaces a file: created false, a new ETag, the new bytes and type', async () => {
      const first = await put('a/b.bin', 'one', 'text/plain');
      const second = await put('a/b.bin', 'second version', 'application/octet-stream');
      expect(second.created).toBe(false);
      expect(second.properties.etag).not.toBe(first.properties.etag);
      expect(second.properties).toMatchObject({ size: 14, contentType: 'application/octet-stream' });
      const content = await store.read('a/b.bin');
      expect((await readAll(content!.body)).toString()).toBe('second version');
      expect(content!.properties.etag).toBe(second.properties.etag);
    });

    it('round-trips binary content across many chunks and several upload blocks', async () => {
      const data = randomBytes(5 * MIB + 123);
      const { properties } = await put('blobs/big.bin', data, 'application/octet-stream', 10 * MIB);
      expect(properties.size).toBe(data.length);
      const back = await readAll((await store.read('blobs/big.bin'))!.body);
      expect(back.equals(data)).toBe(true);
    });

    it('reads byte ranges, reporting the whole size', async () => {
      await put('r/digits.txt', '0123456789');
      const middle = await store.read('r/digits.txt', { range: { start: 2, end: 5 } });
      expect((await readAll(middle!.body)).toString()).toBe('2345');
      expect(middle!.properties.size).toBe(10);
      const last = await store.read('r/digits.txt', { range: { start: 9, end: 9 } });
      expect((await readAll(last!.body)).toString()).toBe('9');
    });

    it('a read conditional on an old ETag fails with "changed"', async () => {
      const first = await put('c/x.txt', 'v1');
      await put('c/x.txt', 'v2');
      await expectBlobError(store.read('c/x.txt', { ifMatch: first.properties.etag }), 'changed');
      const current = await store.stat('c/x.txt');
      const ok = await store.read('c/x.txt', { ifMatch: current!.etag });
      expect((await readAll(ok!.body)).toString()).toBe('v2');
    });

    it('keeps empty files', async () => {
      const { properties } = await put('e/empty', '');
      expect(properties.size).toBe(0);
      const content = await store.read('e/empty');
      expect((await readAll(content!.body)).length).toBe(0);
    });

    it('missing files: stat and read give undefined, delete gives false', async () => {
      expect(await store.stat('none/here')).toBeUndefined();
      expect(await store.read('none/here')).toBeUndefined();
      expect(await store.delete('none/here')).toBe(false);
    });

    it('deletes a file once', async () => {
      await put('d/gone.txt', 'bye');
      expect(await store.delete('d/gone.txt')).toBe(true);
      expect(await store.stat('d/gone.txt')).toBeUndefined();
      expect(await store.delete('d/gone.txt')).toBe(false);
      expect((await store.list({ prefix: 'd/', limit: 10 })).items).toEqual([]);
    });

    it('an upload over the limit fails with "too-large" and leaves the previous file', async () => {
      await put('l/file.bin', 'small');
      await expectBlobError(
        put('l/file.bin', randomBytes(300 * 1024), 'application/octet-stream', 200 * 1024),
        'too-large',
      );
      expect((await readAll((await store.read('l/file.bin'))!.body)).toString()).toBe('small');
      await expectBlobError(
        put('l/new.bin', randomBytes(300 * 1024), 'application/octet-stream', 200 * 1024),
        'too-large',
      );
      expect(await store.stat('l/new.bin')).toBeUndefined();
      // Exactly at the limit is allowed.
      const exact = await put('l/exact.bin', randomBytes(1000), 'application/octet-stream', 1000);
      expect(exact.properties.size).toBe(1000);
    });

    it('a path can be a file and a folder at once', async () => {
      await put('x/y', 'file');
      await put('x/y/z', 'nested');
      expect((await readAll((await store.read('x/y'))!.body)).toString()).toBe('file');
      expect((await readAll((await store.read('x/y/z'))!.body)).toString()).toBe('nested');
      expect((await store.list({ prefix: 'x/', limit: 10 })).items.map((i) => i.path)).toEqual([
        'x/y',
        'x/y/z',
      ]);
    });

    it('lists by prefix in string order, paging with the continuation', async () => {
      const paths = [
        'p/a',
        'p/a-b',
        'p/a.b',
        'p/a/b',
        'p/a/b/c',
        'p/a0',
        'p/A',
        'p/_x',
        'p/b/deep/er/file.txt',
        'q/other',
        'p-not-under',
      ];
      for (const p of paths) await put(p, p);
      const expected = paths.filter((p) => p.startsWith('p/')).sort();
      const seen: string[] = [];
      let continuation: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ prefix: 'p/', limit: 3, ...(continuation ? { continuation } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((i) => i.path));
        continuation = page.continuation;
        pages += 1;
      } while (continuation && pages < 10);
      expect(seen).toEqual(expected);
      const all = await store.list({ limit: 100 });
      expect(all.items.map((i) => i.path)).toEqual([...paths].sort());
      expect(all.continuation).toBeUndefined();
      const one = (await store.list({ prefix: 'p/a/b/', limit: 10 })).items;
      expect(one).toHaveLength(1);
      expect(one[0]).toMatchObject({ path: 'p/a/b/c', size: 7, contentType: 'text/plain' });
      expect((await store.list({ prefix: 'p/a.', limit: 10 })).items.map((i) => i.path)).toEqual(['p/a.b']);
    });

    it('a listing of nothing is empty, without a continuation', async () => {
      expect(await store.list({ prefix: 'nothing/', limit: 5 })).toEqual({ items: [] });
    });

    it('refuses a continuation it did not make', async () => {
      await put('k/one', '1');
      await put('k/two', '2');
      await expectBlobError(
        store.list({ prefix: 'k/', limit: 1, continuation: 'not-a-real-token' }),
        'invalid-continuation',
      );
      // A real token, but from a listing of another prefix.
      const page = await store.list({ prefix: 'k/', limit: 1 });
      expect(page.continuation).toBeDefined();
      await expectBlobError(
        store.list({ prefix: 'k/t', limit: 1, continuation: page.continuation }),
        'invalid-continuation',
      );
    });

    it('downloadUrl: a link that reads the file without credentials, read only and short-lived, or the files route', async () => {
      await put('exports/x/users.ndjson.gz', 'payload', 'application/gzip');
      const link = await store.downloadUrl('exports/x/users.ndjson.gz', { expiresInSeconds: 60 });
      if (link.kind === 'route') {
        // No links of its own: the bridge's GET /api/files/{path} serves it (with an API key).
        expect(link).toEqual({ kind: 'route', path: 'exports/x/users.ndjson.gz' });
      } else {
        expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(61_000);
        const got = await fetch(link.url);
        expect(got.status).toBe(200);
        expect(await got.text()).toBe('payload');
        if (!enforcesLinks) return;
        // Read only: the same link cannot write or delete.
        const write = await fetch(link.url, {
          method: 'PUT',
          headers: { 'x-ms-blob-type': 'BlockBlob' },
          body: 'changed',
        });
        expect(write.status).toBe(403);
        expect((await fetch(link.url, { method: 'DELETE' })).status).toBe(403);
        expect((await readAll((await store.read('exports/x/users.ndjson.gz'))!.body)).toString()).toBe(
          'payload',
        );
        // Only this file.
        const other = link.url.replace('users.ndjson.gz', 'other.bin');
        expect((await fetch(other)).status).toBe(403);
        // Short-lived.
        const brief = await store.downloadUrl('exports/x/users.ndjson.gz', { expiresInSeconds: 1 });
        if (brief.kind !== 'url') throw new Error('expected a url');
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        expect((await fetch(brief.url)).status).toBe(403);
      }
      await expect(store.downloadUrl('../etc/passwd', { expiresInSeconds: 60 })).rejects.toThrow();
    });

    it('concurrent writes of one path leave one whole version', async () => {
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(64 * 1024 + i, 97 + i));
      const results = await Promise.all(bodies.map((b) => put('w/hot.bin', b, 'application/octet-stream')));
      const content = await store.read('w/hot.bin');
      const back = await readAll(content!.body);
      const winner = bodies.findIndex((b) => b.equals(back));
      expect(winner).toBeGreaterThanOrEqual(0);
      expect(content!.properties.size).toBe(back.length);
      expect(results.map((r) => r.properties.etag)).toContain(content!.properties.etag);
      expect((await store.list({ prefix: 'w/', limit: 10 })).items).toHaveLength(1);
    });
  });
}
