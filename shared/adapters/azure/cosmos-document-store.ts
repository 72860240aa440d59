/**
 * CosmosDocumentStore: the DocumentStore port over @azure/cosmos v4 (Cosmos DB for NoSQL), with
 * the semantics of the embedded SQLite store (see the contract suite).
 *
 * - Documents are stored as the items of ../cosmos-item.ts (`{id, pk, type, body, ttl?, tsMs,
 *   expiresAtMs?}`) in containers partitioned on `/pk` ({@link BRIDGE_CONTAINER_DEFINITION}).
 *   The port's `container` argument names a Cosmos container; `Container` objects are cached.
 * - The CosmosClient is built once by the composition root ({@link createCosmosClient}): identity
 *   (`DefaultAzureCredential`) in Azure, an account key only for emulators. The store closes the
 *   client only when it owns it (`ownsClient`).
 * - ETags are Cosmos `_etag`s; `ifMatch` becomes an `IfMatch` access condition. An upsert with
 *   `ifMatch` is a replace with that condition: the document must exist with that etag, so a missing
 *   one is 'precondition-failed' (Cosmos answers 404 there).
 * - `batch` is a Cosmos transactional batch (`items.batch`, one partition, ≤ 100 operations): the
 *   failing operation is the one whose status is not 424 (failed dependency).
 * - TTL: the item carries `ttl` (seconds; the container's defaultTtl is -1, so items without one
 *   never expire) and `expiresAtMs` by the store clock. Reads, queries, counts and the change feed
 *   hide items past `expiresAtMs`, so expiry is exact even before Cosmos deletes the item (and on
 *   emulators that never do). `ts` is the store clock's time of the write (`tsMs`).
 * - Queries are parameterised SQL with keyset paging (./cosmos-query.ts).
 * - The change feed is Cosmos's latest-version change feed over the whole container, filtered by
 *   type on the client; `seq` is the item's `_lsn` where Cosmos returns one. Note that `_lsn` is
 *   ordered per physical partition, not across a container with several physical partitions.
 * - Feed ranges (`feedRanges`, `readFeedRange`): `container.getFeedRanges()` (one per physical
 *   partition) and one change-feed iterator per range, started from an LSN (./cosmos-feed-range.ts),
 *   so a reader holds a position per range and can resume after any single item. A range that
 *   split or merged answers `gone`, and the reader asks for the ranges again.
 * - Every failure is a StoreError (./cosmos-errors.ts).
 */
import {
  BulkOperationType,
  ChangeFeedStartFrom,
  CosmosClient,
  type ConnectionPolicy,
  type Container,
  type CosmosClientOptions,
  type Database,
  type FeedRange as CosmosFeedRange,
  type ItemDefinition,
  type JSONObject,
  type OperationInput,
  type OperationResponse,
} from '@azure/cosmos';
import { DefaultAzureCredential } from '@azure/identity';
import type { Agent } from 'node:http';
import { systemClock, type Clock } from '../../ports/clock';
import {
  bindCollection,
  StoreError,
  type BatchOperation,
  type BatchResult,
  type ChangeFeedPage,
  type DocumentCollection,
  type DocumentStore,
  type FeedRange,
  type FeedRangePage,
  type FeedRangeReadOptions,
  type QueryFilter,
  type QueryPage,
  type StoredDocument,
  type WriteOptions,
} from '../../ports/document-store';
import { fromCosmosItem, type CosmosItem } from '../cosmos-item';
import { httpStatus, storeErrorCodeForStatus, toStoreError } from './cosmos-errors';
import {
  checkFeedItems,
  DEFAULT_FEED_ITEMS,
  checkPk,
  encodeQueryContinuation,
  isValidId,
  prepareBatch,
  prepareOperation,
  prepareWrite,
  type PreparedOperation,
  type PreparedWrite,
} from '../document-rules';
import { countQuery, pageQuery } from './cosmos-query';
import { rangeContinuation, readRangeContinuation } from './cosmos-feed-range';
import { rangeKey } from '../../domain/event-cursor';

export { MAX_BATCH_OPERATIONS } from '../document-rules';
/** Feed pages read in one changeFeed call while a type filter keeps finding nothing. */
const MAX_FEED_PAGES_PER_CALL = 1000;
/** Pages one readFeedRange call reads while a type filter keeps finding too little. */
const MAX_FEED_PAGES_PER_RANGE_READ = 20;
const FEED_TOKEN_PREFIX = 'cf1.';

/** Every bridge container: partition key /pk, per-item TTL on, and the index keyset paging needs. */
export const BRIDGE_CONTAINER_DEFINITION = {
  partitionKey: { paths: ['/pk'] },
  /** -1: TTL is on, but an item expires only when it carries its own `ttl` (seconds). */
  defaultTtl: -1,
  indexingPolicy: {
    compositeIndexes: [
      [
        { path: '/pk', order: 'ascending' as const },
        { path: '/id', order: 'ascending' as const },
      ],
    ],
  },
};

type TokenCredential = NonNullable<CosmosClientOptions['aadCredentials']>;

export interface CreateCosmosClientOptions {
  /** Account endpoint, e.g. https://<account>.documents.azure.com:443/ (CosmosDbConnection__accountEndpoint). */
  endpoint: string;
  /** Account key: only for emulators (the Cosmos DB emulator, cosmosdb-server). Never in Azure. */
  key?: string;
  /** Identity for Azure; defaults to DefaultAzureCredential when no key is given. */
  credential?: TokenCredential;
  /** HTTP(S) agent, e.g. one that accepts an emulator's self-signed certificate. */
  agent?: Agent;
  /** Passed through, e.g. `retryOptions` for 429s or `enableEndpointDiscovery`. */
  connectionPolicy?: ConnectionPolicy;
}

/** Builds the one CosmosClient the composition root owns (and disposes). */
export function createCosmosClient(options: CreateCosmosClientOptions): CosmosClient {
  if (typeof options.endpoint !== 'string' || options.endpoint === '') {
    throw new TypeError('createCosmosClient needs an endpoint');
  }
  if (options.key !== undefined && options.credential !== undefined) {
    throw new TypeError('createCosmosClient takes a key (emulators) or a credential, not both');
  }
  const common: CosmosClientOptions = { endpoint: options.endpoint };
  if (options.agent !== undefined) common.agent = options.agent;
  if (options.connectionPolicy !== undefined) common.connectionPolicy = options.connectionPolicy;
  if (options.key !== undefined && options.key !== '')
    return new CosmosClient({ ...common, key: options.key });
  return new CosmosClient({ ...common, aadCredentials: options.credential ?? new DefaultAzureCredential() });
}

interface CommonStoreOptions {
  /** Dispose the client on close(); set it when the store is the client's only user. Default false. */
  ownsClient?: boolean;
  /** Source of `ts` and of TTL expiry (reads hide items past `expiresAtMs` by this clock). */
  clock?: Clock;
  /**
   * Create the database and any container on first use, with BRIDGE_CONTAINER_DEFINITION. For
   * emulators and tests only: in Azure, infra/ provisions them and the app's identity has data-plane
   * roles only. Default false.
   */
  createMissingContainers?: boolean;
}

export type CosmosDocumentStoreOptions = CommonStoreOptions &
  ({ database: Database } | { client: CosmosClient; databaseId: string });

type StoredItem = CosmosItem & ItemDefinition;

export class CosmosDocumentStore implements DocumentStore {
  readonly client: CosmosClient;
  readonly database: Database;
  private readonly clock: Clock;
  private readonly ownsClient: boolean;
  private readonly createMissing: boolean;
  private readonly containers = new Map<string, Promise<Container>>();
  private databaseReady: Promise<void> | undefined;
  private closed = false;
  /** Per container: its `_rid` (feed-range continuations name it) and the SDK's range objects. */
  private readonly feedState = new Map<string, { rid: string; ranges: Map<string, CosmosFeedRange> }>();

  constructor(options: CosmosDocumentStoreOptions) {
    this.database = 'database' in options ? options.database : options.client.database(options.databaseId);
    this.client = this.database.client;
    this.clock = options.clock ?? systemClock;
    this.ownsClient = options.ownsClient ?? false;
    this.createMissing = options.createMissingContainers ?? false;
  }

  async read<T>(container: string, pk: string, id: string): Promise<StoredDocument<T> | undefined> {
    return this.call(`read ${container}/${pk}/${id}`, async () => {
      const c = await this.container(container);
      checkPk(pk);
      // No document can have an id Cosmos DB rejects; asking would only make a malformed URL.
      if (!isValidId(id)) return undefined;
      const { resource } = await c.item(id, pk).read<StoredItem>();
      return resource && isLive(resource, this.clock.now()) ? toDocument<T>(resource) : undefined;
    });
  }

  async create<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    return this.call(`create ${container}/${pk}/${doc?.id}`, async () => {
      const c = await this.container(container);
      const op = prepareWrite({ op: 'create', ...doc, ttlSeconds: options?.ttlSeconds });
      const item = this.toItem(checkPk(pk), op, this.clock.now());
      try {
        const { resource } = await c.items.create<StoredItem>(item);
        return toDocument<T>(required(resource));
      } catch (error) {
        if (httpStatus(error) !== 409) throw error;
        return toDocument<T>(await this.createOverExpired(c, item, error));
      }
    });
  }

  async upsert<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    return this.call(`upsert ${container}/${pk}/${doc?.id}`, async () => {
      const c = await this.container(container);
      const op = prepareWrite({
        op: 'upsert',
        ...doc,
        ttlSeconds: options?.ttlSeconds,
        ifMatch: options?.ifMatch,
      });
      const item = this.toItem(checkPk(pk), op, this.clock.now());
      if (op.ifMatch === undefined) {
        const { resource } = await c.items.upsert<StoredItem>(item);
        return toDocument<T>(required(resource));
      }
      try {
        const { resource } = await c
          .item(item.id, pk)
          .replace<StoredItem>(item, ifMatchCondition(op.ifMatch));
        return toDocument<T>(required(resource));
      } catch (error) {
        // The etag cannot match a document that does not exist.
        if (httpStatus(error) === 404) {
          throw new StoreError('precondition-failed', `document ${item.id} does not exist`);
        }
        throw error;
      }
    });
  }

  async delete(container: string, pk: string, id: string, options?: { ifMatch?: string }): Promise<void> {
    await this.call(`delete ${container}/${pk}/${id}`, async () => {
      const c = await this.container(container);
      const op = prepareOperation({ op: 'delete', id, ifMatch: options?.ifMatch });
      await c
        .item(op.id, checkPk(pk))
        .delete(op.ifMatch === undefined ? undefined : ifMatchCondition(op.ifMatch));
    });
  }

  async batch(container: string, pk: string, operations: BatchOperation[]): Promise<BatchResult[]> {
    return this.call(`batch ${container}/${pk}`, async () => {
      const c = await this.container(container);
      checkPk(pk);
      const prepared = prepareBatch(operations);
      if (prepared.length === 0) return [];
      const now = this.clock.now();
      const inputs = prepared.map((op) => this.toOperationInput(pk, op, now));
      const response = await c.items.batch(inputs, pk);
      const results: OperationResponse[] = response.result ?? [];
      if (results.length !== prepared.length) {
        throw new StoreError(
          'unavailable',
          `batch returned ${results.length} results for ${prepared.length} operations`,
        );
      }
      const failed = results.findIndex((result) => result.statusCode >= 400 && result.statusCode !== 424);
      if (failed >= 0) throw batchOperationError(prepared, results, failed);
      if (results.some((result) => result.statusCode >= 400)) {
        throw new StoreError('unavailable', 'batch failed without naming the failing operation');
      }
      return prepared.map((op, index): BatchResult => {
        if (op.op === 'delete') return { id: op.id, ts: now };
        const body = results[index]?.resourceBody as StoredItem | undefined;
        const result: BatchResult = {
          id: op.id,
          etag: body?._etag ?? results[index]?.eTag,
          ts: body?.tsMs ?? now,
        };
        if (typeof body?._lsn === 'number') result.seq = body._lsn;
        return result;
      });
    });
  }

  async query<T>(container: string, filter: QueryFilter): Promise<QueryPage<T>> {
    return this.call(`query ${container}`, async () => {
      const c = await this.container(container);
      const { spec, limit } = pageQuery(filter ?? {}, this.clock.now());
      const { resources } = await c.items
        .query<StoredItem>(spec, queryOptions(filter?.pk, limit + 1))
        .fetchAll();
      // One item more than asked tells whether another page exists, so the last page has no token.
      const page = resources.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((item) => toDocument<T>(item)),
        continuation:
          resources.length > limit && last ? encodeQueryContinuation(last.pk, last.id) : undefined,
      };
    });
  }

  async count(container: string, filter: Omit<QueryFilter, 'limit' | 'continuation'>): Promise<number> {
    return this.call(`count ${container}`, async () => {
      const c = await this.container(container);
      const spec = countQuery(filter ?? {}, this.clock.now());
      const { resources } = await c.items.query<number>(spec, queryOptions(filter?.pk)).fetchAll();
      return resources.reduce((sum, n) => sum + (typeof n === 'number' ? n : 0), 0);
    });
  }

  async changeFeed(
    container: string,
    options: { continuation?: string; maxItems?: number; types?: readonly string[] },
  ): Promise<ChangeFeedPage> {
    return this.call(`changeFeed ${container}`, async () => {
      const c = await this.container(container);
      const maxItems = checkFeedItems(options?.maxItems);
      const from = decodeFeedContinuation(options?.continuation);
      const types = options?.types && options.types.length > 0 ? new Set(options.types) : undefined;
      const iterator = c.items.getChangeFeedIterator<StoredItem>({
        changeFeedStartFrom:
          from === undefined ? ChangeFeedStartFrom.Beginning() : ChangeFeedStartFrom.Continuation(from),
        maxItemCount: maxItems,
      });
      const items: StoredDocument[] = [];
      let token: string | undefined;
      let moved = false;
      // A page of other types (or of expired items) moves the cursor; keep reading until something
      // matches or the feed is drained (the SDK answers 304 only once every feed range is), so an
      // empty page always means "caught up".
      for (let pages = 0; items.length === 0 && pages < MAX_FEED_PAGES_PER_CALL; pages++) {
        const page = await iterator.readNext();
        if (page.continuationToken) token = page.continuationToken;
        const changed = page.statusCode === 304 ? [] : (page.result ?? []);
        if (changed.length === 0) break;
        moved = true;
        const now = this.clock.now();
        for (const item of changed) {
          if (isLive(item, now) && (types === undefined || types.has(item.type))) {
            items.push(toDocument(item));
          }
        }
      }
      // Nothing changed since `from`: hand it back unchanged (the SDK may reorder its feed ranges).
      if (!moved && from !== undefined) token = from;
      if (token === undefined)
        throw new StoreError('unavailable', 'the change feed returned no continuation');
      return { items, continuation: encodeFeedContinuation(token) };
    });
  }

  async feedRanges(container: string): Promise<FeedRange[]> {
    return this.call(`feedRanges ${container}`, async () => {
      const state = await this.refreshFeedState(container);
      return [...state.ranges.values()].map((r) => ({ min: r.minInclusive, max: r.maxExclusive }));
    });
  }

  async readFeedRange(
    container: string,
    range: FeedRange,
    options: FeedRangeReadOptions,
  ): Promise<FeedRangePage> {
    return this.call(`readFeedRange ${container}`, async () => {
      const c = await this.container(container);
      const maxItems = options?.maxItems ?? DEFAULT_FEED_ITEMS;
      if (!Number.isInteger(maxItems) || maxItems < 1) {
        throw new StoreError('invalid', 'maxItems must be a positive integer');
      }
      const after = options.after;
      if (after !== 'now' && !(Number.isSafeInteger(after) && after >= 0)) {
        throw new StoreError('invalid', 'after must be a non-negative integer or "now"');
      }
      const state = this.feedState.get(container) ?? (await this.refreshFeedState(container));
      const sdkRange = state.ranges.get(rangeKey(range));
      // Not one of the ranges Cosmos reported: it split or merged since the reader looked.
      if (!sdkRange) return { items: [], position: after === 'now' ? 0 : after, gone: true };
      const iterator = c.items.getChangeFeedIterator<StoredItem>({
        changeFeedStartFrom:
          after === 'now'
            ? ChangeFeedStartFrom.Now(sdkRange)
            : after === 0
              ? ChangeFeedStartFrom.Beginning(sdkRange)
              : ChangeFeedStartFrom.Continuation(rangeContinuation(state.rid, range, after)),
        maxItemCount: maxItems,
      });
      const types = options.types && options.types.length > 0 ? new Set(options.types) : undefined;
      const items: StoredDocument[] = [];
      let position = after === 'now' ? 0 : after;
      let more = false;
      for (let pages = 0; ; pages++) {
        const page = await iterator.readNext();
        const back = readRangeContinuation(page.continuationToken, range);
        if (back.kind === 'changed') {
          this.feedState.delete(container);
          return { items: [], position: after === 'now' ? 0 : after, gone: true };
        }
        if (back.kind === 'unreadable') {
          throw new StoreError('unavailable', `unexpected change-feed continuation: ${back.reason}`);
        }
        position = Math.max(position, back.lsn);
        const changed = page.statusCode === 304 ? [] : (page.result ?? []);
        const now = this.clock.now();
        for (const item of changed) {
          if (isLive(item, now) && (types === undefined || types.has(item.type)))
            items.push(toDocument(item));
        }
        // Stop once the page was short (the range is drained), enough items matched, or (other
        // types only) the read has gone on long enough; `more` says the range holds more.
        if (after === 'now' || changed.length < maxItems) break;
        if (items.length >= maxItems || pages + 1 >= MAX_FEED_PAGES_PER_RANGE_READ) {
          more = true;
          break;
        }
      }
      return { items, position, ...(more ? { more: true } : {}) };
    });
  }

  private async refreshFeedState(
    container: string,
  ): Promise<{ rid: string; ranges: Map<string, CosmosFeedRange> }> {
    const c = await this.container(container);
    const [{ resource }, ranges] = await Promise.all([c.read(), c.getFeedRanges()]);
    if (!resource?._rid) throw new StoreError('unavailable', `container ${container} has no _rid`);
    const state = {
      rid: resource._rid,
      ranges: new Map(ranges.map((r) => [rangeKey({ min: r.minInclusive, max: r.maxExclusive }), r])),
    };
    this.feedState.set(container, state);
    return state;
  }

  collection(name: string): DocumentCollection {
    return bindCollection(this, name);
  }

  async ping(): Promise<void> {
    await this.call('ping', async () => {
      try {
        await this.database.read();
      } catch (error) {
        // A missing database is a broken deployment, not a missing document.
        if (httpStatus(error) === 404)
          throw new StoreError('unavailable', `database ${this.database.id} does not exist`);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.containers.clear();
    this.feedState.clear();
    if (this.ownsClient) this.client.dispose();
  }

  /** The cached Container for a name (created first, once, when createMissingContainers is on). */
  private container(name: string): Promise<Container> {
    if (typeof name !== 'string' || name === '') {
      return Promise.reject(new StoreError('invalid', 'container must be a non-empty string'));
    }
    let cached = this.containers.get(name);
    if (!cached) {
      cached = this.createMissing
        ? this.ensureContainer(name)
        : Promise.resolve(this.database.container(name));
      this.containers.set(name, cached);
      // A failed creation is retried by the next call rather than cached.
      cached.catch(() => this.containers.delete(name));
    }
    return cached;
  }

  private async ensureContainer(name: string): Promise<Container> {
    this.databaseReady ??= this.client.databases.createIfNotExists({ id: this.database.id }).then(
      () => undefined,
      (error: unknown) => {
        this.databaseReady = undefined;
        throw error;
      },
    );
    await this.databaseReady;
    const { container } = await this.database.containers.createIfNotExists({
      id: name,
      ...BRIDGE_CONTAINER_DEFINITION,
    });
    return container;
  }

  /**
   * A create that met an existing item: if that item has expired by the store clock (Cosmos has not
   * deleted it yet), the create replaces exactly that version; otherwise it is a conflict.
   */
  private async createOverExpired(c: Container, item: StoredItem, conflict: unknown): Promise<StoredItem> {
    const { resource: existing } = await c.item(item.id, item.pk).read<StoredItem>();
    if (!existing || isLive(existing, this.clock.now()) || existing._etag === undefined) {
      throw new StoreError('conflict', `document ${item.id} already exists`);
    }
    try {
      const { resource } = await c
        .item(item.id, item.pk)
        .replace<StoredItem>(item, ifMatchCondition(existing._etag));
      return required(resource);
    } catch (error) {
      const status = httpStatus(error);
      // Someone else wrote or deleted it in between: report the create as the conflict it met.
      if (status === 404 || status === 412) throw toStoreError(conflict, `create ${item.id}`);
      throw error;
    }
  }

  private toItem(pk: string, op: PreparedWrite, now: number): StoredItem {
    // The body as plain JSON (the shared rules serialised it once): what Cosmos DB would store.
    const item: StoredItem = { id: op.id, pk, type: op.type, body: JSON.parse(op.json), tsMs: now };
    if (op.ttlSeconds !== undefined) {
      item.ttl = op.ttlSeconds;
      item.expiresAtMs = now + op.ttlSeconds * 1000;
    }
    return item;
  }

  /** Each operation names the batch's partition key too (the SDK checks they agree). */
  private toOperationInput(pk: string, op: PreparedOperation, now: number): OperationInput {
    if (op.op === 'delete') {
      // The REST batch format takes ifMatch on every operation; the SDK's type for Delete omits it.
      const input: OperationInput & { ifMatch?: string } = {
        operationType: BulkOperationType.Delete,
        partitionKey: pk,
        id: op.id,
      };
      if (op.ifMatch !== undefined) input.ifMatch = op.ifMatch;
      return input;
    }
    const resourceBody = this.toItem(pk, op, now) as unknown as JSONObject;
    if (op.op === 'create')
      return { operationType: BulkOperationType.Create, partitionKey: pk, resourceBody };
    if (op.op === 'upsert' && op.ifMatch === undefined) {
      return { operationType: BulkOperationType.Upsert, partitionKey: pk, resourceBody };
    }
    // replace, and upsert with ifMatch (which needs the document to exist with that etag).
    return {
      operationType: BulkOperationType.Replace,
      partitionKey: pk,
      id: op.id,
      resourceBody,
      ...(op.ifMatch !== undefined ? { ifMatch: op.ifMatch } : {}),
    };
  }

  /** Runs fn, turning SDK failures into StoreErrors so callers never see SDK errors. */
  private async call<R>(what: string, fn: () => Promise<R>): Promise<R> {
    if (this.closed) throw new StoreError('unavailable', 'the document store is closed');
    try {
      return await fn();
    } catch (error) {
      throw toStoreError(error, what);
    }
  }
}

/** Builds a client from endpoint + key/credential and a store that owns it (closes it on close()). */
export function openCosmosDocumentStore(
  options: CreateCosmosClientOptions & { databaseId: string } & Omit<CommonStoreOptions, 'ownsClient'>,
): CosmosDocumentStore {
  const { databaseId, clock, createMissingContainers, ...clientOptions } = options;
  return new CosmosDocumentStore({
    client: createCosmosClient(clientOptions),
    databaseId,
    ownsClient: true,
    clock,
    createMissingContainers,
  });
}

function ifMatchCondition(etag: string) {
  return { accessCondition: { type: 'IfMatch', condition: etag } };
}

function queryOptions(pk: string | undefined, maxItemCount?: number) {
  return {
    ...(maxItemCount !== undefined ? { maxItemCount } : {}),
    // A pk filter keeps the query inside one partition.
    ...(typeof pk === 'string' ? { partitionKey: pk } : {}),
  };
}

function isLive(item: CosmosItem, now: number): boolean {
  return typeof item.expiresAtMs !== 'number' || item.expiresAtMs > now;
}

function toDocument<T>(item: StoredItem): StoredDocument<T> {
  return fromCosmosItem(item) as StoredDocument<T>;
}

function required(resource: StoredItem | undefined): StoredItem {
  if (!resource) throw new StoreError('unavailable', 'Cosmos DB returned no item for a write');
  return resource;
}

function batchOperationError(
  prepared: PreparedOperation[],
  results: OperationResponse[],
  index: number,
): StoreError {
  const op = prepared[index] as PreparedOperation;
  const status = (results[index] as OperationResponse).statusCode;
  let code = storeErrorCodeForStatus(status);
  // An upsert with ifMatch runs as a replace: a missing document fails its precondition.
  if (status === 404 && op.op === 'upsert' && op.ifMatch !== undefined) code = 'precondition-failed';
  return new StoreError(
    code,
    `operation ${index} (${op.op} ${op.id}): Cosmos DB answered ${status}`,
    undefined,
    index,
  );
}

function encodeFeedContinuation(token: string): string {
  return FEED_TOKEN_PREFIX + Buffer.from(token).toString('base64url');
}

function decodeFeedContinuation(continuation: string | undefined): string | undefined {
  if (continuation === undefined) return undefined;
  if (typeof continuation === 'string' && continuation.startsWith(FEED_TOKEN_PREFIX)) {
    const token = Buffer.from(continuation.slice(FEED_TOKEN_PREFIX.length), 'base64url').toString('utf8');
    try {
      JSON.parse(token);
      return token;
    } catch {
      // fall through to the error below
    }
  }
  throw new StoreError('invalid', 'malformed change feed continuation');
}
