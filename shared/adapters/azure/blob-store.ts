import { decodeListingContinuation, encodeListingContinuation } from '../blob-continuation';
import { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  RestError,
  SASProtocol,
  StorageSharedKeyCredential,
  type ContainerClient,
  type StoragePipelineOptions,
  type UserDelegationKey,
} from '@azure/storage-blob';
import {
  BlobStoreError,
  isSafeBlobPath,
  type BlobContent,
  type BlobDownloadLink,
  type BlobPage,
  type BlobProperties,
  type BlobPutOptions,
  type BlobStore,
  type ByteRange,
} from '../../ports/blob-store';

/** Upload block size and parallelism: 4 MiB blocks, at most 4 in flight (16 MiB of buffers). */
const UPLOAD_BLOCK_BYTES = 4 * 1024 * 1024;
/** Files up to this size are sent in one request (Put Blob) rather than as blocks. */
const SINGLE_UPLOAD_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;

export interface BlobServiceClientOptions {
  /** `https://<account>.blob.core.windows.net`, used with the credential (managed identity in Azure). */
  endpoint?: string;
  credential?: TokenCredential;
  /** Emulators (Azurite) only. */
  connectionString?: string;
  pipelineOptions?: StoragePipelineOptions;
}

/** Builds the one BlobServiceClient of a worker: identity-based, or a connection string for Azurite. */
export function createBlobServiceClient(options: BlobServiceClientOptions): BlobServiceClient {
  if (options.connectionString) {
    return BlobServiceClient.fromConnectionString(options.connectionString, options.pipelineOptions);
  }
  if (!options.endpoint || !options.credential) {
    throw new Error('A blob endpoint and a credential (or an emulator connection string) are required.');
  }
  return new BlobServiceClient(options.endpoint, options.credential, options.pipelineOptions);
}

const statusOf = (error: unknown): number | undefined =>
  error instanceof RestError ? error.statusCode : (error as { statusCode?: number } | undefined)?.statusCode;

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

/**
 * BlobStore over one Azure Blob Storage container. An upload stages blocks and commits the block
 * list at the end, so a failed or oversized upload leaves the previous file untouched.
 */
/** What AzureBlobStore needs to sign user-delegation links (the BlobServiceClient has it). */
export interface DelegationKeySource {
  getUserDelegationKey(startsOn: Date, expiresOn: Date): Promise<UserDelegationKey>;
}

/** A user delegation key is requested for this long and reused for links that end before it does. */
const DELEGATION_KEY_MS = 6 * 3_600_000;
/** Links start this far in the past, for clocks that run behind Azure's. */
const CLOCK_SKEW_MS = 5 * 60_000;

export class AzureBlobStore implements BlobStore {
  private containerReady?: Promise<void>;
  private delegationKey?: Promise<UserDelegationKey>;

  /** `delegation` signs download links (the BlobServiceClient; any object with getUserDelegationKey in tests). */
  constructor(
    private readonly container: ContainerClient,
    private readonly delegation?: DelegationKeySource,
    private readonly now: () => number = Date.now,
  ) {}

  async put(
    path: string,
    body: AsyncIterable<Uint8Array>,
    { contentType, maxBytes }: BlobPutOptions,
  ): Promise<{ properties: BlobProperties; created: boolean }> {
    checkPath(path);
    await this.ensureContainer();
    const blob = this.container.getBlockBlobClient(path);
    const existed = await blob.exists();
    const counter = { size: 0 };
    const chunks = limited(body, maxBytes, counter)[Symbol.asyncIterator]();
    const headers = { blobHTTPHeaders: { blobContentType: contentType } };
    let response;
    try {
      // A file that fits in one block goes up in one Put Blob: atomic, and concurrent writers of
      // one path simply replace each other. Larger files stream as staged blocks + a commit.
      const head: Buffer[] = [];
      let headBytes = 0;
      let ended = false;
      while (headBytes <= SINGLE_UPLOAD_BYTES) {
        const next = await chunks.next();
        if (next.done) {
          ended = true;
          break;
        }
        head.push(next.value);
        headBytes += next.value.length;
      }
      if (ended) {
        const whole = Buffer.concat(head, headBytes);
        response = await blob.upload(whole, whole.length, headers);
      } else {
        const rest = async function* () {
          yield* head;
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
        };
        const source = Readable.from(rest());
        try {
          response = await blob.uploadStream(source, UPLOAD_BLOCK_BYTES, UPLOAD_CONCURRENCY, headers);
        } finally {
          source.destroy();
        }
      }
    } catch (error) {
      // The SDK may wrap the source's error; the limit is what the caller must hear about.
      if (counter.size > maxBytes)
        throw new BlobStoreError('too-large', `The file exceeds the limit of ${maxBytes} bytes.`);
      if (statusOf(error) === 400 && (error as { code?: string }).code === 'InvalidBlockList') {
        throw new BlobStoreError('concurrent-write', `Another upload of ${path} finished first; retry.`);
      }
      throw error;
    } finally {
      await chunks.return?.();
    }
    return {
      properties: {
        path,
        size: counter.size,
        contentType,
        etag: response.etag ?? '',
        lastModified: (response.lastModified ?? new Date()).toISOString(),
      },
      created: !existed,
    };
  }

  async stat(path: string): Promise<BlobProperties | undefined> {
    checkPath(path);
    try {
      const p = await this.container.getBlobClient(path).getProperties();
      return {
        path,
        size: p.contentLength ?? 0,
        contentType: p.contentType ?? 'application/octet-stream',
        etag: p.etag ?? '',
        lastModified: (p.lastModified ?? new Date(0)).toISOString(),
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
      const response = await this.container
        .getBlobClient(path)
        .download(range?.start ?? 0, range ? range.end - range.start + 1 : undefined, {
          ...(ifMatch ? { conditions: { ifMatch } } : {}),
        });
      const total = /\/(\d+)$/.exec(response.contentRange ?? '')?.[1];
      const stream = response.readableStreamBody;
      return {
        properties: {
          path,
          size: total !== undefined ? Number(total) : (response.contentLength ?? 0),
          contentType: response.contentType ?? 'application/octet-stream',
          etag: response.etag ?? '',
          lastModified: (response.lastModified ?? new Date(0)).toISOString(),
        },
        body: stream ? (stream instanceof Readable ? stream : Readable.from(stream)) : Readable.from([]),
      };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return undefined;
      if (status === 412) throw new BlobStoreError('changed', `${path} changed since it was looked at.`);
      throw error;
    }
  }

  /**
   * A read-only SAS for this one blob, valid `expiresInSeconds`, signed with a user delegation key
   * (Microsoft Entra identity: no account key exists in Azure, where shared keys are off). The key
   * is requested with the app's identity — which needs generateUserDelegationKey on the account
   * (infra/: Storage Blob Data Owner on the storage account) — and reused until it nears its end.
   * Against Azurite (a connection string, account-key credential) the SAS is signed with that key.
   */
  async downloadUrl(path: string, options: { expiresInSeconds: number }): Promise<BlobDownloadLink> {
    checkPath(path);
    const seconds = options.expiresInSeconds;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 7 * 86_400) {
      throw new Error('expiresInSeconds must be a whole number of seconds, at most 7 days');
    }
    const blob = this.container.getBlobClient(path);
    const now = this.now();
    const startsOn = new Date(now - CLOCK_SKEW_MS);
    const expiresOn = new Date(now + seconds * 1000);
    const values = {
      containerName: this.container.containerName,
      blobName: path,
      permissions: BlobSASPermissions.parse('r'),
      startsOn,
      expiresOn,
      protocol: blob.url.startsWith('https:') ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
    };
    const credential = this.container.credential;
    if (credential instanceof StorageSharedKeyCredential) {
      const sas = generateBlobSASQueryParameters(values, credential).toString();
      return {
        kind: 'url',
        url: `${blob.url}?${sas}`,
        expiresAt: expiresOn.toISOString(),
        signedWith: 'account-key',
      };
    }
    const key = await this.userDelegationKey(now, expiresOn);
    const sas = generateBlobSASQueryParameters(values, key, this.container.accountName).toString();
    return {
      kind: 'url',
      url: `${blob.url}?${sas}`,
      expiresAt: expiresOn.toISOString(),
      signedWith: 'user-delegation',
    };
  }

  /** A cached user delegation key that is valid beyond `until`, or a new one. */
  private async userDelegationKey(now: number, until: Date): Promise<UserDelegationKey> {
    if (!this.delegation)
      throw new Error('This blob store has no service client to get a user delegation key from.');
    const cached = this.delegationKey ? await this.delegationKey.catch(() => undefined) : undefined;
    if (cached && cached.signedExpiresOn.getTime() > until.getTime()) return cached;
    const expiresOn = new Date(Math.max(now + DELEGATION_KEY_MS, until.getTime() + CLOCK_SKEW_MS));
    this.delegationKey = this.delegation.getUserDelegationKey(new Date(now - CLOCK_SKEW_MS), expiresOn);
    return this.delegationKey;
  }

  async delete(path: string): Promise<boolean> {
    checkPath(path);
    try {
      const response = await this.container
        .getBlobClient(path)
        .deleteIfExists({ deleteSnapshots: 'include' });
      return response.succeeded;
    } catch (error) {
      // No container yet: nothing to delete.
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async list({
    prefix,
    continuation,
    limit,
  }: {
    prefix?: string;
    continuation?: string;
    limit: number;
  }): Promise<BlobPage> {
    const marker =
      continuation === undefined ? undefined : decodeListingContinuation(continuation, prefix ?? '');
    try {
      const pages = this.container
        .listBlobsFlat(prefix ? { prefix } : {})
        .byPage({ maxPageSize: limit, ...(marker ? { continuationToken: marker } : {}) });
      const { value, done } = await pages.next();
      if (done || !value) return { items: [] };
      const items = value.segment.blobItems.map((item): BlobProperties => ({
        path: item.name,
        size: item.properties.contentLength ?? 0,
        contentType: item.properties.contentType ?? 'application/octet-stream',
        etag: item.properties.etag ?? '',
        lastModified: item.properties.lastModified.toISOString(),
      }));
      return value.continuationToken
        ? { items, continuation: encodeListingContinuation(value.continuationToken, prefix ?? '') }
        : { items };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return { items: [] };
      if (status === 400 && marker) {
        throw new BlobStoreError('invalid-continuation', 'The continuation token is not valid.');
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    // BlobServiceClient holds no connections that need closing.
  }

  /**
   * Creates the container on first write if it is missing. In Azure, infra/ creates it and the
   * identity may lack the right to; a 403 here is therefore ignored and the write itself decides.
   */
  private ensureContainer(): Promise<void> {
    this.containerReady ??= this.container
      .createIfNotExists()
      .then(() => undefined)
      .catch((error: unknown) => {
        if (statusOf(error) === 403) return;
        this.containerReady = undefined;
        throw error;
      });
    return this.containerReady;
  }
}

function checkPath(path: string): void {
  if (!isSafeBlobPath(path)) throw new Error(`Unsafe file path refused: ${JSON.stringify(path)}`);
}

export function openAzureBlobStore(client: BlobServiceClient, containerName: string): AzureBlobStore {
  return new AzureBlobStore(client.getContainerClient(containerName), client);
}
