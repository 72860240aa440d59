import { USER_ID_PATTERN, USER_ID_RULE } from '../domain/ids';
import {
  BLOB_PATH_MAX_LENGTH,
  BLOB_PATH_RULE,
  isBlobStoreError,
  isSafeBlobPath,
  type BlobContent,
  type BlobPage,
  type BlobProperties,
  type BlobStore,
  type ByteRange,
} from '../ports/blob-store';
import { ServiceError } from './errors';

/**
 * Files: upload, download (ranges, conditional), delete and listing over a BlobStore.
 *
 * Paths are `/`-separated segments of safe characters (see BLOB_PATH_RULE). Each user's files are
 * `users/{userId}/…`: a path under `users/` must name a valid user id and at least one segment
 * after it. Who may touch which path is access-policy.ts's decision (assertMayTouchFile,
 * fileListPrefixFor); this service checks only the form.
 */

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const CONTENT_TYPE_PATTERN = new RegExp(
  `^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\r\\n]*"))*$`,
);
const PREFIX_PATTERN = /^[A-Za-z0-9._@/-]*$/;
const CONTINUATION_PATTERN = /^[\x21-\x7e]{1,4096}$/;
const CONTINUATION_RULE = 'must be a continuation returned by an earlier listing';

export type FileRead =
  | { kind: 'not-modified'; properties: BlobProperties }
  | { kind: 'unsatisfiable'; properties: BlobProperties }
  | { kind: 'content'; content: BlobContent; range?: ByteRange };

export type RangeRequest = { kind: 'none' } | { kind: 'range'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * A `Range` header against a file of `size` bytes (RFC 9110 §14). A header that is not one
 * well-formed `bytes=` range is ignored (the whole file is sent); several ranges are ignored too.
 */
export function parseRange(header: string | null | undefined, size: number): RangeRequest {
  if (!header) return { kind: 'none' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return { kind: 'none' };
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return { kind: 'none' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (last !== '' && end < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end: Math.min(end, size - 1) } };
}

/** `If-None-Match` against an ETag: `*` or any listed tag, compared weakly (RFC 9110 §13.1.2). */
export function noneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const target = opaque(etag);
  return header.split(',').some((tag) => opaque(tag) === target);
}

export interface FileServiceOptions {
  maxBytes: number;
}

export class FileService {
  constructor(
    private readonly blobs: BlobStore,
    private readonly options: FileServiceOptions,
  ) {}

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** A path of the right form (400 otherwise). */
  checkPath(rawPath: string | null | undefined): string {
    const path = rawPath ?? '';
    if (!isSafeBlobPath(path)) {
      throw new ServiceError('validation', 'Invalid file path.', [{ path: 'path', message: BLOB_PATH_RULE }]);
    }
    const segments = path.split('/');
    if (segments[0] === 'users') {
      if (segments.length < 3) {
        throw new ServiceError('validation', 'Invalid file path.', [
          { path: 'path', message: 'a path under users/ must be users/{userId}/{name…}' },
        ]);
      }
      if (!USER_ID_PATTERN.test(segments[1] ?? '')) {
        throw new ServiceError('validation', 'Invalid file path.', [
          { path: 'path', message: `userId ${USER_ID_RULE}` },
        ]);
      }
    }
    return path;
  }

  async put(
    path: string,
    input: {
      contentType?: string | null;
      contentLength?: string | null;
      body: AsyncIterable<Uint8Array> | null;
    },
  ): Promise<{ file: BlobProperties; created: boolean }> {
    const contentType = checkContentType(input.contentType);
    if (input.contentLength !== undefined && input.contentLength !== null) {
      const declared = Number(input.contentLength);
      if (!/^\d+$/.test(input.contentLength.trim())) {
        throw new ServiceError('validation', 'Invalid content-length.', [
          { path: 'content-length', message: 'must be a whole number of bytes' },
        ]);
      }
      if (declared > this.options.maxBytes) throw tooLarge(this.options.maxBytes);
    }
    try {
      const { properties, created } = await this.blobs.put(path, input.body ?? emptyBody(), {
        contentType,
        maxBytes: this.options.maxBytes,
      });
      return { file: properties, created };
    } catch (error) {
      if (isBlobStoreError(error, 'too-large')) throw tooLarge(this.options.maxBytes);
      if (isBlobStoreError(error, 'concurrent-write')) throw new ServiceError('conflict', error.message);
      throw error;
    }
  }

  /** Opens a file for a GET: honours If-None-Match (→ not-modified) and one Range (→ a part, or unsatisfiable). */
  async read(
    path: string,
    headers: { range?: string | null; ifNoneMatch?: string | null },
  ): Promise<FileRead> {
    // The range is resolved against a stat, then read only if the file is still that version.
    for (let attempt = 0; attempt < 5; attempt++) {
      const properties = await this.blobs.stat(path);
      if (!properties) throw notFound(path);
      if (noneMatchHits(headers.ifNoneMatch, properties.etag)) return { kind: 'not-modified', properties };
      const range = parseRange(headers.range, properties.size);
      if (range.kind === 'unsatisfiable') return { kind: 'unsatisfiable', properties };
      try {
        const content = await this.blobs.read(path, {
          ifMatch: properties.etag,
          ...(range.kind === 'range' ? { range: range.range } : {}),
        });
        if (!content) throw notFound(path);
        return range.kind === 'range'
          ? { kind: 'content', content, range: range.range }
          : { kind: 'content', content };
      } catch (error) {
        if (!isBlobStoreError(error, 'changed')) throw error;
      }
    }
    throw new ServiceError('unavailable', `${path} is changing too often to be read; retry.`);
  }

  async delete(path: string): Promise<void> {
    if (!(await this.blobs.delete(path))) throw notFound(path);
  }

  /**
   * The prefix a listing may use: checked (400 otherwise) and scoped by role. A `user` key lists only
   * under users/, and there when it names no prefix.
   */
  /** A listing prefix of the right form (400 otherwise); '' when none was given. */
  checkPrefix(rawPrefix: string | null | undefined): string {
    const prefix = rawPrefix ?? '';
    if (prefix.length > BLOB_PATH_MAX_LENGTH || !PREFIX_PATTERN.test(prefix)) {
      throw new ServiceError('validation', 'Invalid prefix.', [
        { path: 'prefix', message: 'must be up to 1024 letters, digits, ".", "_", "@", "-", "/"' },
      ]);
    }
    return prefix;
  }

  /** One page of files whose path starts with `prefix` (checked by checkPrefix, narrowed by access-policy fileListPrefixFor), in path order. */
  async list(
    prefix: string,
    query: { continuation?: string | null; limit?: string | null },
  ): Promise<{
    files: BlobProperties[];
    continuation: string | null;
    damaged?: { path: string; reason: string }[];
  }> {
    const errors: { path: string; message: string }[] = [];
    const limitText = query.limit ?? '100';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 1000) {
      errors.push({ path: 'limit', message: 'must be a whole number from 1 to 1000' });
    }
    const continuation = query.continuation ?? undefined;
    if (continuation !== undefined && !CONTINUATION_PATTERN.test(continuation)) {
      errors.push({ path: 'continuation', message: CONTINUATION_RULE });
    }
    if (errors.length > 0) throw new ServiceError('validation', 'The request is not valid.', errors);
    let page: BlobPage;
    try {
      page = await this.blobs.list({ prefix, limit, ...(continuation ? { continuation } : {}) });
    } catch (error) {
      if (isBlobStoreError(error, 'invalid-continuation')) {
        throw new ServiceError('validation', 'The request is not valid.', [
          { path: 'continuation', message: CONTINUATION_RULE },
        ]);
      }
      throw error;
    }
    // One damaged entry never breaks the listing: it is left out and named.
    return {
      files: page.items,
      continuation: page.continuation ?? null,
      ...(page.damaged && page.damaged.length > 0 ? { damaged: page.damaged } : {}),
    };
  }
}

function checkContentType(header: string | null | undefined): string {
  const value = header?.trim();
  if (!value) return DEFAULT_CONTENT_TYPE;
  if (value.length > 255 || !CONTENT_TYPE_PATTERN.test(value)) {
    throw new ServiceError('validation', 'Invalid content-type.', [
      { path: 'content-type', message: 'must be a media type such as image/png (at most 255 characters)' },
    ]);
  }
  return value;
}

const tooLarge = (maxBytes: number) =>
  new ServiceError(
    'payload-too-large',
    `The file exceeds the limit of ${maxBytes} bytes (BRIDGE_FILES_MAX_BYTES).`,
  );

const notFound = (path: string) => new ServiceError('not-found', `No file at ${path}.`);

async function* emptyBody(): AsyncIterable<Uint8Array> {}
