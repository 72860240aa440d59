/**
 * BlobStore over one Amazon S3 bucket, or a bucket of an S3-compatible service (BRIDGE_FILES=s3).
 *
 * - Uploads stream through a byte counter that stops at maxBytes. A file that fits in one part
 *   (PART_BYTES) goes up in one PutObject; a larger one as a multipart upload that is completed at
 *   the end and aborted on any failure, so a failed or oversized upload leaves the previous object.
 *   S3 replaces objects atomically: readers see the old object or the new one.
 * - A read with ifMatch sends If-Match and also compares the ETag of the answer, for S3-compatible
 *   services that ignore the header.
 * - ETags are S3's own (quoted): an MD5 of the bytes, or of the parts for a multipart upload. Writing
 *   the very same bytes again keeps the ETag, which is right for caching as the bytes are the same.
 * - A listing page is one ListObjectsV2 (S3 lists in UTF-8 binary order, which is code-unit order
 *   for the ASCII paths the port allows) plus one HeadObject per item, because S3 listings carry no
 *   content type; the heads run LIST_HEAD_CONCURRENCY at a time. The continuation is the last path
 *   of the page (StartAfter), bound to the prefix.
 * - The bucket is the operator's: it is never created here.
 *
 * Credentials come from the AWS SDK's default provider chain (environment variables, the shared
 * config and credentials files with AWS_PROFILE, web identity, ECS container and EC2 instance roles).
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { decodeListingContinuation, encodeListingContinuation } from '../blob-continuation';
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

/** S3's smallest part (except the last): 5 MiB; at most UPLOAD_QUEUE parts are buffered and in flight. */
const PART_BYTES = 5 * 1024 * 1024;
const UPLOAD_QUEUE = 4;
const LIST_HEAD_CONCURRENCY = 8;

export interface S3ClientOptions {
  region: string;
  /** An S3-compatible service's endpoint; absent for Amazon S3 itself. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible services need. */
  forcePathStyle?: boolean;
  /** Tests and emulators only: the bridge itself uses the SDK's default provider chain. */
  credentials?: S3ClientConfig['credentials'];
}

/** Builds the one S3 client of a worker. */
export function createS3Client(options: S3ClientOptions): S3Client {
  return new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          // The SDK's default CRC32 checksums (aws-chunked uploads with trailers) are not understood by
          // every S3-compatible service; Amazon S3 itself keeps them.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

const statusOf = (error: unknown): number | undefined =>
  error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;

/** S3 quotes its ETags; a service that does not gets them quoted here, so every adapter reports alike. */
const quoted = (etag: string | undefined): string =>
  etag === undefined || etag === '' ? '' : etag.startsWith('"') ? etag : `"${etag}"`;

/** Bytes counted as they pass; the limit stops the upload before anything is committed. */
async function* limited(body: AsyncIterable<Uint8Array>, maxBytes: number, counter: { size: number }) {
  for await (const chunk of body) {
    counter.size += chunk.byteLength;
    if (counter.size > maxBytes) {
      throw new BlobStoreError('too-large', `The file exceeds the limit of ${maxBytes} bytes.`);
    }
    yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(
    path: string,
    body: AsyncIterable<Uint8Array>,
    { contentType, maxBytes }: BlobPutOptions,
  ): Promise<{ properties: BlobProperties; created: boolean }> {
    checkPath(path);
    const existed = (await this.stat(path)) !== undefined;
    const counter = { size: 0 };
    const source = Readable.from(limited(body, maxBytes, counter));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: path, Body: source, ContentType: contentType },
      partSize: PART_BYTES,
      queueSize: UPLOAD_QUEUE,
      leavePartsOnError: false,
    });
    let etag: string;
    try {
      etag = quoted((await upload.done()).ETag);
    } catch (error) {
      // The SDK may wrap the source's error; the limit is what the caller must hear about.
      if (counter.size > maxBytes) {
        throw new BlobStoreError('too-large', `The file exceeds the limit of ${maxBytes} bytes.`);
      }
      throw error;
    } finally {
      source.destroy();
    }
    // S3 answers a write without its Last-Modified: ask for it, unless another write came first.
    const written = await this.stat(path);
    if (written?.etag === etag) return { properties: written, created: !existed };
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    return {
      properties: { path, size: counter.size, contentType, etag, lastModified: now.toISOString() },
      created: !existed,
    };
  }

  async stat(path: string): Promise<BlobProperties | undefined> {
    checkPath(path);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: path }));
      return {
        path,
        size: head.ContentLength ?? 0,
        contentType: head.ContentType ?? 'application/octet-stream',
        etag: quoted(head.ETag),
        lastModified: (head.LastModified ?? new Date(0)).toISOString(),
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async read(
    path: string,
    options: { range?: ByteRange; ifMatch?: string } = {},
  ): Promise<BlobContent | undefined> {
    checkPath(path);
    const { range, ifMatch } = options;
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: path,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          ...(ifMatch ? { IfMatch: ifMatch } : {}),
        }),
      );
      const total = /\/(\d+)$/.exec(response.ContentRange ?? '')?.[1];
      const body = response.Body;
      // Amazon S3 answers a failed If-Match with 412 (below); a service that ignores the header is
      // caught here, by the ETag of what it sent.
      if (ifMatch && quoted(response.ETag) !== quoted(ifMatch)) {
        if (body instanceof Readable) body.destroy();
        throw new BlobStoreError('changed', `${path} changed since it was looked at.`);
      }
      return {
        properties: {
          path,
          size: total !== undefined ? Number(total) : (response.ContentLength ?? 0),
          contentType: response.ContentType ?? 'application/octet-stream',
          etag: quoted(response.ETag),
          lastModified: (response.LastModified ?? new Date(0)).toISOString(),
        },
        body: body instanceof Readable ? body : Readable.from([]),
      };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return undefined;
      if (status === 412) throw new BlobStoreError('changed', `${path} changed since it was looked at.`);
      throw error;
    }
  }

  /** S3 deletes answer alike whether or not the object existed: a head tells which. */
  async delete(path: string): Promise<boolean> {
    if ((await this.stat(path)) === undefined) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: path }));
    return true;
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
        : decodeListingContinuation(continuation, prefix, (p) => isSafeBlobPath(p) && p.startsWith(prefix));
    const response = await this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        MaxKeys: limit,
        ...(prefix ? { Prefix: prefix } : {}),
        ...(after ? { StartAfter: after } : {}),
      }),
    );
    const keys = (response.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
    const heads = await mapConcurrently(keys, LIST_HEAD_CONCURRENCY, (key) =>
      isSafeBlobPath(key) ? this.stat(key) : Promise.resolve(undefined),
    );
    // An object deleted between the listing and its head is left out; one not written by the bridge
    // (an unsafe key) too.
    const items = heads.filter((h): h is BlobProperties => h !== undefined);
    const last = keys[keys.length - 1];
    return response.IsTruncated && last !== undefined
      ? { items, continuation: encodeListingContinuation(last, prefix) }
      : { items };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** `work` over `items`, at most `limit` at a time, results in the items' order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function checkPath(path: string): void {
  if (!isSafeBlobPath(path)) throw new Error(`Unsafe file path refused: ${JSON.stringify(path)}`);
}

export function openS3BlobStore(client: S3Client, bucket: string): S3BlobStore {
  return new S3BlobStore(client, bucket);
}
