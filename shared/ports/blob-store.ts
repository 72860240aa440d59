import type { Readable } from 'node:stream';

/**
 * File storage shaped after Azure Blob Storage: flat paths with `/` separators, a content type and
 * a strong ETag per file, byte-range reads and prefix listing with an opaque continuation. The Azure,
 * S3 and embedded file-system adapters pass the same contract tests.
 */

/** A file's properties, reported alike by both adapters. */
export interface BlobProperties {
  path: string;
  size: number;
  contentType: string;
  /** Quoted strong ETag; changes with every write that changes the bytes (S3 keeps it for identical bytes). */
  etag: string;
  /** ISO 8601. */
  lastModified: string;
}

/** Inclusive byte positions inside the file: `{ start: 0, end: size - 1 }` is the whole of it. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobContent {
  properties: BlobProperties;
  /** The file's bytes, or the requested range of them. */
  body: Readable;
}

export interface BlobPage {
  items: BlobProperties[];
  /** Entries of this page the store could not read (e.g. a corrupt sidecar): left out, reported here. */
  damaged?: { path: string; reason: string }[];
  /** Pass back to continue after the last item; absent on the last page. */
  continuation?: string;
}

export interface BlobPutOptions {
  contentType: string;
  /** The write fails with `BlobStoreError('too-large')`, changing nothing, once the body passes this. */
  maxBytes: number;
}

export interface BlobStore {
  /** Writes (creates or replaces) a file from a stream of chunks; atomic: readers see the old or the new file. */
  put(
    path: string,
    body: AsyncIterable<Uint8Array>,
    options: BlobPutOptions,
  ): Promise<{ properties: BlobProperties; created: boolean }>;
  stat(path: string): Promise<BlobProperties | undefined>;
  /**
   * Opens a file (or a range of it, which must lie inside the file). With `ifMatch`, fails with
   * `BlobStoreError('changed')` when the file's ETag differs, so a range matches the stat it came from.
   */
  read(path: string, options?: { range?: ByteRange; ifMatch?: string }): Promise<BlobContent | undefined>;
  /** true when the file existed. */
  delete(path: string): Promise<boolean>;
  /** Files whose path starts with `prefix`, in path (code unit) order, at most `limit` of them. */
  list(options: { prefix?: string; continuation?: string; limit: number }): Promise<BlobPage>;
  close(): Promise<void>;
}

/**
 * `too-large`: the body passed maxBytes. `invalid-continuation`: a token this store did not issue
 * for this prefix. `changed`: an ifMatch read met another version. `concurrent-write`: another
 * upload of the same path committed while this one was streaming (Blob Storage only; retry).
 */
export type BlobStoreErrorCode = 'too-large' | 'invalid-continuation' | 'changed' | 'concurrent-write';

export class BlobStoreError extends Error {
  constructor(
    readonly code: BlobStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BlobStoreError';
  }
}

export const isBlobStoreError = (error: unknown, code?: BlobStoreErrorCode): error is BlobStoreError =>
  error instanceof BlobStoreError && (code === undefined || error.code === code);

/** A path segment: 1-255 letters, digits, ".", "_", "@", "-", not starting with "." (so never "." or ".."). */
export const BLOB_SEGMENT_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,254}$/;
export const BLOB_PATH_MAX_LENGTH = 1024;
export const BLOB_PATH_MAX_SEGMENTS = 32;
export const BLOB_PATH_RULE =
  'must be 1-1024 characters: up to 32 "/"-separated segments of letters, digits, ".", "_", "@", "-", ' +
  'each starting with a letter, digit or "_" (no empty, "." or ".." segments, no leading or trailing "/")';

/** The path rule every adapter relies on: nothing that could leave the store's root or alias another path. */
export function isSafeBlobPath(path: string): boolean {
  if (path.length === 0 || path.length > BLOB_PATH_MAX_LENGTH) return false;
  const segments = path.split('/');
  return segments.length <= BLOB_PATH_MAX_SEGMENTS && segments.every((s) => BLOB_SEGMENT_PATTERN.test(s));
}
