import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFileBlobStore } from '../../../shared/adapters/embedded/file-blob-store';
import { assertMayTouchFile, fileListPrefixFor } from '../../../shared/services/access-policy';
import { ServiceError } from '../../../shared/services/errors';
import { endUserPrincipal, keyPrincipal, type Principal } from '../../../shared/services/principal';
import { FileService, noneMatchHits, parseRange } from '../../../shared/services/file-service';
import { chunked, readAll } from '../../contract/blob-store.contract';

describe('parseRange (RFC 9110 byte ranges)', () => {
  it.each([
    ['bytes=0-4', 10, { kind: 'range', range: { start: 0, end: 4 } }],
    ['bytes=5-', 10, { kind: 'range', range: { start: 5, end: 9 } }],
    ['bytes=-3', 10, { kind: 'range', range: { start: 7, end: 9 } }],
    ['bytes=-30', 10, { kind: 'range', range: { start: 0, end: 9 } }],
    ['bytes=2-100', 10, { kind: 'range', range: { start: 2, end: 9 } }],
    ['BYTES = 1 - 2', 10, { kind: 'range', range: { start: 1, end: 2 } }],
    ['bytes=10-', 10, { kind: 'unsatisfiable' }],
    ['bytes=10-20', 10, { kind: 'unsatisfiable' }],
    ['bytes=-0', 10, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'unsatisfiable' }],
    // Ignored: malformed, other units, several ranges, end before start.
    ['bytes=5-2', 10, { kind: 'none' }],
    ['bytes=-', 10, { kind: 'none' }],
    ['items=0-1', 10, { kind: 'none' }],
    ['bytes=0-1,3-4', 10, { kind: 'none' }],
    ['bytes=a-b', 10, { kind: 'none' }],
    ['', 10, { kind: 'none' }],
  ])('%j of %d bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
  it('no header means the whole file', () => {
    expect(parseRange(null, 5)).toEqual({ kind: 'none' });
  });
});

describe('noneMatchHits', () => {
  it('matches *, the tag, a list containing it, and weak forms', () => {
    expect(noneMatchHits('*', '"a"')).toBe(true);
    expect(noneMatchHits('"a"', '"a"')).toBe(true);
    expect(noneMatchHits('"x", "a"', '"a"')).toBe(true);
    expect(noneMatchHits('W/"a"', '"a"')).toBe(true);
    expect(noneMatchHits('"b"', '"a"')).toBe(false);
    expect(noneMatchHits(null, '"a"')).toBe(false);
  });
});

describe('FileService', () => {
  let dir: string;
  let files: FileService;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-files-svc-'));
    files = new FileService(openFileBlobStore(dir), { maxBytes: 1000 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const kindOf = (work: () => unknown): string | undefined => {
    try {
      work();
    } catch (error) {
      return error instanceof ServiceError ? error.kind : 'other';
    }
    return undefined;
  };

  it.each([
    '',
    '/a',
    'a/',
    'a//b',
    '../etc/passwd',
    'a/../b',
    'a/./b',
    '.hidden',
    'a/.b',
    'a\\b',
    'a b',
    'a%2e%2e',
    'x'.repeat(256),
    `${'a/'.repeat(32)}a`,
    'users/ann',
    'users/.x/file',
    'users/bad user/file',
  ])('refuses the path %j with 400', (p) => {
    expect(kindOf(() => files.checkPath(p))).toBe('validation');
  });

  it('accepts safe paths; users/{userId}/… with ids like e-mail addresses', () => {
    expect(files.checkPath('reports/2026/q1.pdf')).toBe('reports/2026/q1.pdf');
    expect(files.checkPath('users/ann@example.com/cv.pdf')).toBe('users/ann@example.com/cv.pdf');
    expect(files.checkPath('users/u1/a/b/c.txt')).toBe('users/u1/a/b/c.txt');
  });

  it('who may touch which path (access-policy): a user key only users/…, an end user only users/<self>/…', () => {
    const key = (role: 'admin' | 'user' | 'service') => keyPrincipal('k', role, 'k');
    const allowed = (principal: Principal, path: string) => {
      try {
        assertMayTouchFile(principal, path);
        return true;
      } catch (error) {
        expect(error).toMatchObject({ kind: 'forbidden' });
        return false;
      }
    };
    expect(allowed(key('user'), 'reports/q1.pdf')).toBe(false);
    expect(allowed(key('user'), 'usersx/a/b')).toBe(false);
    expect(allowed(key('user'), 'users/ann/cv.pdf')).toBe(true);
    expect(allowed(key('admin'), 'reports/q1.pdf')).toBe(true);
    expect(allowed(key('service'), 'reports/q1.pdf')).toBe(true);
    expect(allowed(endUserPrincipal('ann'), 'users/ann/cv.pdf')).toBe(true);
    expect(allowed(endUserPrincipal('ann'), 'users/anna/cv.pdf')).toBe(false);
    expect(allowed(endUserPrincipal('ann'), 'users/bob/cv.pdf')).toBe(false);
    expect(allowed(endUserPrincipal('ann'), 'reports/q1.pdf')).toBe(false);
  });

  it('list prefix: a user key lists under users/ (by default there), an end user under users/<self>/, others anywhere', () => {
    const prefix = (principal: Principal, raw: string | null) =>
      fileListPrefixFor(principal, files.checkPrefix(raw));
    const user = keyPrincipal('k', 'user', 'k');
    expect(prefix(user, null)).toBe('users/');
    expect(prefix(user, 'users/ann/')).toBe('users/ann/');
    expect(kindOf(() => prefix(user, 'users'))).toBe('forbidden');
    expect(kindOf(() => prefix(user, 'reports/'))).toBe('forbidden');
    expect(prefix(keyPrincipal('a', 'admin', 'a'), null)).toBe('');
    const ann = endUserPrincipal('ann');
    expect(prefix(ann, null)).toBe('users/ann/');
    expect(prefix(ann, 'users/ann')).toBe('users/ann/');
    expect(prefix(ann, 'users/ann/cv')).toBe('users/ann/cv');
    expect(kindOf(() => prefix(ann, 'users/an'))).toBe('forbidden');
    expect(kindOf(() => prefix(ann, 'users/'))).toBe('forbidden');
    expect(kindOf(() => files.checkPrefix('a\\b'))).toBe('validation');
    expect(kindOf(() => files.checkPrefix('a b'))).toBe('validation');
  });

  it('checks the content type and a declared length before reading anything', async () => {
    const body = chunked(Buffer.from('x'));
    await expect(files.put('a/b', { contentType: 'not a type', body })).rejects.toMatchObject({
      kind: 'validation',
    });
    await expect(files.put('a/b', { contentLength: '1001', body })).rejects.toMatchObject({
      kind: 'payload-too-large',
    });
    await expect(files.put('a/b', { contentLength: '12abc', body })).rejects.toMatchObject({
      kind: 'validation',
    });
    expect((await files.list('', {})).files).toEqual([]);
  });

  it('stores application/octet-stream when no type is sent, and keeps parameters', async () => {
    const a = await files.put('a/plain', { body: chunked(Buffer.from('x')) });
    expect(a.file.contentType).toBe('application/octet-stream');
    const b = await files.put('a/text', { contentType: 'text/plain; charset="utf-8"', body: null });
    expect(b.file).toMatchObject({ contentType: 'text/plain; charset="utf-8"', size: 0 });
  });

  it('a body that passes the limit while streaming is 413 and changes nothing', async () => {
    await expect(files.put('a/big', { body: chunked(Buffer.alloc(1001), 100) })).rejects.toMatchObject({
      kind: 'payload-too-large',
    });
    await expect(files.read('a/big', {})).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('read: whole, range, unsatisfiable, not-modified', async () => {
    const { file } = await files.put('r/f.txt', {
      contentType: 'text/plain',
      body: chunked(Buffer.from('abcdef')),
    });
    const whole = await files.read('r/f.txt', {});
    expect(whole.kind).toBe('content');
    if (whole.kind === 'content') expect((await readAll(whole.content.body)).toString()).toBe('abcdef');
    const part = await files.read('r/f.txt', { range: 'bytes=1-2' });
    expect(part).toMatchObject({ kind: 'content', range: { start: 1, end: 2 } });
    if (part.kind === 'content') expect((await readAll(part.content.body)).toString()).toBe('bc');
    expect(await files.read('r/f.txt', { range: 'bytes=6-' })).toMatchObject({ kind: 'unsatisfiable' });
    expect(await files.read('r/f.txt', { ifNoneMatch: file.etag, range: 'bytes=0-1' })).toMatchObject({
      kind: 'not-modified',
    });
  });

  it('list validates limit and continuation', async () => {
    await expect(files.list('', { limit: '0' })).rejects.toMatchObject({ kind: 'validation' });
    await expect(files.list('', { limit: '1001' })).rejects.toMatchObject({ kind: 'validation' });
    await expect(files.list('', { limit: 'ten' })).rejects.toMatchObject({ kind: 'validation' });
    await expect(files.list('', { continuation: 'bogus' })).rejects.toMatchObject({ kind: 'validation' });
    await expect(files.list('', { continuation: 'a b' })).rejects.toMatchObject({ kind: 'validation' });
  });

  it('delete of a missing file is 404', async () => {
    await expect(files.delete('no/such')).rejects.toMatchObject({ kind: 'not-found' });
  });
});
