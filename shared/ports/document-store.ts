/**
 * DocumentStore: the persistence port, shaped after Cosmos DB's SQL API so that the embedded
 * SQLite store and the Cosmos adapter can both implement it with the same semantics.
 *
 * - Documents live in a container and a logical partition (`pk`) and are addressed by `id`.
 * - Every write yields a new opaque `etag`; writes may be conditional on it (`ifMatch`).
 * - `batch` is transactional inside one partition: all operations apply or none does.
 * - `ttlSeconds` expires a document; expired documents are invisible and later purged
 *   (like Cosmos TTL, expiry produces no change-feed entry).
 * - The change feed lists the latest version of each changed document in commit order and
 *   resumes from an opaque continuation token. Hard deletes never appear in it.
 * - Feed ranges: a store whose commit order holds only within parts of a container (Cosmos DB:
 *   one order per physical partition) offers `feedRanges`/`readFeedRange`, so a reader can keep
 *   a position per range and resume after any single item. A store without them has one
 *   container-wide order: its `seq` is that order, and `changeFeed` resumes after the item whose
 *   `seq` is N from the continuation `String(N)`.
 * - At most one event document is written per transactional batch: on Cosmos DB every write of a
 *   batch shares one `_lsn`, and the replay cursor needs one event per position.
 * - Cosmos DB's limits hold everywhere ('invalid' otherwise): an id is 1-255 characters without
 *   / \ ? or #; ttlSeconds is a positive integer; a batch holds at most 100 operations.
 */

/** JSON values are a domain type; re-exported here for the adapters and services that store them. */
export type { JsonValue } from '../domain/json';
import type { FeedRangeBounds } from '../domain/event-cursor';

/** A feed range: effective partition keys from `min` (inclusive) to `max` (exclusive). */
export type FeedRange = FeedRangeBounds;

export interface StoredDocument<T = unknown> {
  id: string;
  pk: string;
  /** Document kind, used for queries (e.g. "user", "state", "apikey", "event"). */
  type: string;
  body: T;
  etag: string;
  /** Commit time, epoch milliseconds. */
  ts: number;
  /** Epoch milliseconds after which the document is gone; absent = never. */
  expiresAt?: number;
  /**
   * Commit position of this version in the container's change feed (monotonic across the
   * container), where the store has one. Event documents are never rewritten, so theirs is stable.
   */
  seq?: number;
}

export interface WriteOptions {
  ifMatch?: string;
  ttlSeconds?: number;
}

export type BatchOperation =
  | { op: 'create'; id: string; type: string; body: unknown; ttlSeconds?: number }
  | { op: 'upsert'; id: string; type: string; body: unknown; ttlSeconds?: number; ifMatch?: string }
  | { op: 'replace'; id: string; type: string; body: unknown; ttlSeconds?: number; ifMatch?: string }
  | { op: 'delete'; id: string; ifMatch?: string };

export interface BatchResult {
  id: string;
  /** Commit position of this write in the change feed, where the store has one. */
  seq?: number;
  /** New etag for writes; undefined for deletes. */
  etag?: string;
  ts: number;
}

export interface QueryFilter {
  type?: string;
  pk?: string;
  idPrefix?: string;
  /** Equality on top-level body fields. */
  where?: Record<string, string | number | boolean>;
  limit?: number;
  continuation?: string;
}

export interface QueryPage<T> {
  items: StoredDocument<T>[];
  continuation?: string;
}

export interface ChangeFeedPage {
  items: StoredDocument[];
  /** Pass back to resume after the last item; stable when there are no new changes. */
  continuation: string;
}

export interface FeedRangeReadOptions {
  /** Read after this position in the range (0 = from the beginning), or only learn the position now. */
  after: number | 'now';
  maxItems?: number;
  types?: readonly string[];
}

export interface FeedRangePage {
  /** Latest versions of the range's changed documents after `after`, in the range's order; `seq` = position. */
  items: StoredDocument[];
  /** The position read up to: every item's `seq` is at or below it; pass it as `after` to continue. */
  position: number;
  /** The range is no longer one of the store's ranges (it split or merged): ask `feedRanges` again. */
  gone?: boolean;
  /** The read stopped before the range's end (a page limit): read on from `position` at once. */
  more?: boolean;
}

export interface DocumentStore {
  read<T>(container: string, pk: string, id: string): Promise<StoredDocument<T> | undefined>;
  create<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>>;
  upsert<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>>;
  delete(container: string, pk: string, id: string, options?: { ifMatch?: string }): Promise<void>;
  /** Transactional inside one partition; throws a StoreError and applies nothing when one op fails. */
  batch(container: string, pk: string, operations: BatchOperation[]): Promise<BatchResult[]>;
  query<T>(container: string, filter: QueryFilter): Promise<QueryPage<T>>;
  count(container: string, filter: Omit<QueryFilter, 'limit' | 'continuation'>): Promise<number>;
  changeFeed(
    container: string,
    options: { continuation?: string; maxItems?: number; types?: readonly string[] },
  ): Promise<ChangeFeedPage>;
  /** The container's feed ranges (partitioned stores only; see the file comment). */
  feedRanges?(container: string): Promise<FeedRange[]>;
  /** One feed range's changes after a position (partitioned stores only). */
  readFeedRange?(container: string, range: FeedRange, options: FeedRangeReadOptions): Promise<FeedRangePage>;
  /** The store bound to one container: what services use, so they never pass a container name. */
  collection(name: string): DocumentCollection;
  /** Cheap liveness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One container of a DocumentStore: the same operations without the container argument. */
export interface DocumentCollection {
  readonly name: string;
  read<T>(pk: string, id: string): Promise<StoredDocument<T> | undefined>;
  create<T>(
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>>;
  upsert<T>(
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>>;
  delete(pk: string, id: string, options?: { ifMatch?: string }): Promise<void>;
  batch(pk: string, operations: BatchOperation[]): Promise<BatchResult[]>;
  query<T>(filter: QueryFilter): Promise<QueryPage<T>>;
  count(filter: Omit<QueryFilter, 'limit' | 'continuation'>): Promise<number>;
  changeFeed(options: {
    continuation?: string;
    maxItems?: number;
    types?: readonly string[];
  }): Promise<ChangeFeedPage>;
  feedRanges?(): Promise<FeedRange[]>;
  readFeedRange?(range: FeedRange, options: FeedRangeReadOptions): Promise<FeedRangePage>;
}

/**
 * The one implementation of `DocumentStore.collection`. It calls through the store on every
 * operation (nothing is captured), so a wrapped or patched store method is honoured.
 */
export function bindCollection(store: Omit<DocumentStore, 'collection'>, name: string): DocumentCollection {
  return {
    name,
    read: <T>(pk: string, id: string) => store.read<T>(name, pk, id),
    create: <T>(pk: string, doc: { id: string; type: string; body: T }, options?: WriteOptions) =>
      store.create<T>(name, pk, doc, options),
    upsert: <T>(pk: string, doc: { id: string; type: string; body: T }, options?: WriteOptions) =>
      store.upsert<T>(name, pk, doc, options),
    delete: (pk, id, options) => store.delete(name, pk, id, options),
    batch: (pk, operations) => store.batch(name, pk, operations),
    query: <T>(filter: QueryFilter) => store.query<T>(name, filter),
    count: (filter) => store.count(name, filter),
    changeFeed: (options) => store.changeFeed(name, options),
    ...(store.feedRanges && store.readFeedRange
      ? {
          // Method calls (not detached functions), so `this` stays the store.
          feedRanges: () => store.feedRanges?.(name) as Promise<FeedRange[]>,
          readFeedRange: (range: FeedRange, options: FeedRangeReadOptions) =>
            store.readFeedRange?.(name, range, options) as Promise<FeedRangePage>,
        }
      : {}),
  };
}

export type StoreErrorCode =
  'not-found' | 'conflict' | 'precondition-failed' | 'throttled' | 'unavailable' | 'invalid';

/** The one error type adapters throw, so services never see SDK-specific errors. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    /** Index of the failing operation inside a batch. */
    readonly operationIndex?: number,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}
