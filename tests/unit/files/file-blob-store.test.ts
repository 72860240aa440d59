/** The embedded file store's own guarantees: layout, no escape from its root, atomic replacement, crash left-overs. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileBlobStore, openFileBlobStore } from '../../../shared/adapters/embedded/file-blob-store';
import { chunked, readAll } from '../../contract/blob-store.contract';

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) =>
      path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)),
    )
    .sort();
}

describe('FileBlobStore (embedded)', () => {
  let dataDir: string;
  let store: FileBlobStore;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-fbs-'));
    store = openFileBlobStore(dataDir);
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const put = (p: string, text: string, maxBytes = 1000) =>
    store.put(p, chunked(Buffer.from(text)), { contentType: 'text/plain', maxBytes });

  it('lists around a damaged sidecar and reports it (issue 9 item 11)', async () => {
    await put('users/ann/a.txt', 'a');
    await put('users/ann/b.txt', 'b');
    await put('users/ann/c.txt', 'c');
    await put('users/ann/d.txt', 'd');
    const objects = path.join(dataDir, 'files', 'objects', 'users.d', 'ann.d');
    fs.writeFileSync(path.join(objects, 'b.txt.meta.json'), '{"path": "users/ann/b.t');
    fs.writeFileSync(path.join(objects, 'c.txt.meta.json'), '{"path": 42}');
    const page = await store.list({ prefix: 'users/', limit: 10 });
    expect(page.items.map((i) => i.path)).toEqual(['users/ann/a.txt', 'users/ann/d.txt']);
    expect(page.damaged).toEqual([
      { path: 'users/ann/b.txt', reason: 'its sidecar is not valid JSON' },
      { path: 'users/ann/c.txt', reason: 'its sidecar lacks required fields' },
    ]);
  });

  it('creates its directories 0700 and its files 0600', async () => {
    await put('users/ann/cv.txt', 'hello');
    for (const file of filesUnder(path.join(dataDir, 'files')))
      expect(fs.statSync(path.join(dataDir, 'files', file)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, 'files', 'objects', 'users.d')).mode & 0o777).toBe(0o700);
  });

  it('keeps each file as its bytes plus a sidecar with type and ETag, under BRIDGE_DATA_DIR/files', async () => {
    const { properties } = await put('users/ann/cv.txt', 'hello');
    const files = filesUnder(path.join(dataDir, 'files'));
    expect(files).toHaveLength(2);
    expect(files).toContain(path.join('objects', 'users.d', 'ann.d', 'cv.txt.meta.json'));
    const data = files.find((f) => f.endsWith('.blob')) as string;
    expect(fs.readFileSync(path.join(dataDir, 'files', data), 'utf8')).toBe('hello');
    const sidecar = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'files', 'objects', 'users.d', 'ann.d', 'cv.txt.meta.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ contentType: 'text/plain', etag: properties.etag, size: 5 });
  });

  it('a replacement leaves only the new bytes behind', async () => {
    await put('a/b', 'one');
    await put('a/b', 'two');
    await put('a/b', 'three');
    const files = filesUnder(path.join(dataDir, 'files'));
    expect(files.filter((f) => f.endsWith('.blob'))).toHaveLength(1);
    expect(filesUnder(path.join(dataDir, 'files', 'tmp'))).toEqual([]);
  });

  it('refuses every path that could leave its root, before touching the disk', async () => {
    const outside = path.join(dataDir, 'escaped');
    for (const bad of [
      '../escaped',
      'a/../../escaped',
      '/etc/passwd',
      'a/./b',
      '..',
      '.',
      '',
      'a//b',
      'a\\..\\b',
      'a\0b',
    ]) {
      await expect(put(bad, 'x')).rejects.toThrow(/Unsafe file path/);
      await expect(store.read(bad)).rejects.toThrow(/Unsafe file path/);
      await expect(store.stat(bad)).rejects.toThrow(/Unsafe file path/);
      await expect(store.delete(bad)).rejects.toThrow(/Unsafe file path/);
    }
    expect(fs.existsSync(outside)).toBe(false);
    expect(filesUnder(dataDir)).toEqual([]);
  });

  it('names that look like the layout itself cannot alias each other', async () => {
    const paths = ['x', 'x.d', 'x.meta.json', 'x.blob', 'x/y', 'x.d/y', 'x.0123.blob'];
    for (const p of paths) await put(p, `content of ${p}`);
    for (const p of paths) {
      expect((await readAll((await store.read(p))!.body)).toString()).toBe(`content of ${p}`);
    }
    expect((await store.list({ limit: 100 })).items.map((i) => i.path)).toEqual([...paths].sort());
  });

  it('an oversized upload leaves no temp file and no trace', async () => {
    await expect(put('a/big', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'too-large' });
    expect(filesUnder(path.join(dataDir, 'files'))).toEqual([]);
  });

  it('a failing body leaves no temp file and the previous version', async () => {
    await put('a/f', 'kept');
    async function* broken(): AsyncIterable<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('client went away');
    }
    await expect(store.put('a/f', broken(), { contentType: 'text/plain', maxBytes: 100 })).rejects.toThrow(
      'client went away',
    );
    expect((await readAll((await store.read('a/f'))!.body)).toString()).toBe('kept');
    expect(filesUnder(path.join(dataDir, 'files', 'tmp'))).toEqual([]);
  });

  it('a reader that opened a version keeps reading it while it is replaced', async () => {
    await put('a/r', 'first version');
    const open = await store.read('a/r');
    await put('a/r', 'second version');
    expect((await readAll(open!.body)).toString()).toBe('first version');
    expect((await readAll((await store.read('a/r'))!.body)).toString()).toBe('second version');
  });

  it('clears left-overs of interrupted writes on start, and survives a reopen', async () => {
    await put('a/keep', 'kept');
    fs.writeFileSync(path.join(dataDir, 'files', 'tmp', 'half-written'), 'partial');
    const reopened = openFileBlobStore(dataDir, { durability: 'full' });
    expect(filesUnder(path.join(dataDir, 'files', 'tmp'))).toEqual([]);
    expect((await readAll((await reopened.read('a/keep'))!.body)).toString()).toBe('kept');
    await reopened.put('a/full', chunked(Buffer.from('synced')), {
      contentType: 'text/plain',
      maxBytes: 100,
    });
    expect((await readAll((await reopened.read('a/full'))!.body)).toString()).toBe('synced');
    await reopened.close();
  });
});
