/**
 * A DocumentStore with several feed ranges, the way a multi-partition Cosmos DB container behaves
 * (cosmosdb-server has no change feed, so the replay contract needs this model):
 *
 * - each partition key hashes to an effective partition key (two hex digits) and so to one range;
 * - each range has its own LSN counter, starting far apart, so positions of different ranges do
 *   not compare (code that compares them fails the contract);
 * - every write of one transactional batch shares one LSN, as on Cosmos DB;
 * - the latest-version change feed of a range lists documents by LSN; `split()` cuts a range in
 *   two whose LSNs continue the parent's, and reading the parent then answers `gone`.
 *
 * Everything else (documents, etags, TTL, queries) is an in-memory SqliteDocumentStore underneath.
 */
import { createHash } from 'node:crypto';
import { SqliteDocumentStore } from '../../shared/adapters/embedded/sqlite-document-store';
import type { Clock } from '../../shared/ports/clock';
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
} from '../../shared/ports/document-store';

interface Range extends FeedRange {
  counter: number;
  /** Document key (pk \u0000 id) → the LSN of its latest version. */
  entries: Map<string, number>;
}

const key = (pk: string, id: string) => `${pk}\u0000${id}`;
const STARTS = [0, 7_000, 300, 90_000, 45, 123_456, 5_000_000, 12];

/** Two hex digits of the partition key's hash; never "FF", so every key sits below the last max. */
export function effectivePartitionKey(pk: string): string {
  const byte = createHash('sha1').update(pk).digest()[0] as number;
  return Math.min(byte, 0xfe).toString(16).toUpperCase().padStart(2, '0');
}

export class RangedMemoryStore implements DocumentStore {
  readonly inner: SqliteDocumentStore;
  private readonly containers = new Map<string, Range[]>();
  /** How many times each range bounds pair was read (tests check no range is skipped). */
  readonly reads = new Map<string, number>();

  constructor(
    private readonly rangeCount: number,
    clock?: Clock,
  ) {
    this.inner = new SqliteDocumentStore({ path: ':memory:', clock, purgeIntervalMs: 0 });
  }

  private rangesOf(container: string): Range[] {
    let ranges = this.containers.get(container);
    if (!ranges) {
      ranges = [];
      const bounds = [
        '',
        ...Array.from({ length: this.rangeCount - 1 }, (_, i) =>
          Math.floor(((i + 1) * 256) / this.rangeCount)
            .toString(16)
            .toUpperCase()
            .padStart(2, '0'),
        ),
        'FF',
      ];
      for (let i = 0; i < this.rangeCount; i++) {
        const start = STARTS[i % STARTS.length] as number;
        ranges.push({
          min: bounds[i] as string,
          max: bounds[i + 1] as string,
          counter: start,
          entries: new Map(),
        });
      }
      this.containers.set(container, ranges);
    }
    return ranges;
  }

  private rangeFor(container: string, pk: string): Range {
    const epk = effectivePartitionKey(pk);
    const range = this.rangesOf(container).find((r) => r.min <= epk && epk < r.max);
    if (!range) throw new Error(`no range for ${epk}`);
    return range;
  }

  /** Splits the range holding `pk` (or the first range) in two; its children continue its LSNs. */
  split(container: string, pk?: string): [FeedRange, FeedRange] {
    const ranges = this.rangesOf(container);
    const parent = pk === undefined ? (ranges[0] as Range) : this.rangeFor(container, pk);
    const lo = parent.min === '' ? 0 : parseInt(parent.min, 16);
    const hi = parent.max === 'FF' ? 255 : parseInt(parent.max, 16);
    if (hi - lo < 2) throw new Error('range too small to split');
    const mid = Math.floor((lo + hi) / 2)
      .toString(16)
      .toUpperCase()
      .padStart(2, '0');
    const left: Range = { min: parent.min, max: mid, counter: parent.counter, entries: new Map() };
    const right: Range = { min: mid, max: parent.max, counter: parent.counter, entries: new Map() };
    for (const [k, lsn] of parent.entries) {
      const epk = effectivePartitionKey(k.split('\u0000')[0] as string);
      (epk < mid ? left : right).entries.set(k, lsn);
    }
    ranges.splice(ranges.indexOf(parent), 1, left, right);
    return [left, right];
  }

  private record(container: string, pk: string, ids: { id: string; deleted: boolean }[]): number {
    const range = this.rangeFor(container, pk);
    range.counter += 1;
    for (const { id, deleted } of ids) {
      if (deleted) range.entries.delete(key(pk, id));
      else range.entries.set(key(pk, id), range.counter);
    }
    return range.counter;
  }

  private withLsn<T>(container: string, doc: StoredDocument<T>): StoredDocument<T> {
    const lsn = this.rangeFor(container, doc.pk).entries.get(key(doc.pk, doc.id));
    return lsn === undefined ? doc : { ...doc, seq: lsn };
  }

  async read<T>(container: string, pk: string, id: string): Promise<StoredDocument<T> | undefined> {
    const doc = await this.inner.read<T>(container, pk, id);
    return doc && this.withLsn(container, doc);
  }

  async create<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    const written = await this.inner.create(container, pk, doc, options);
    return { ...written, seq: this.record(container, pk, [{ id: doc.id, deleted: false }]) };
  }

  async upsert<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    const written = await this.inner.upsert(container, pk, doc, options);
    return { ...written, seq: this.record(container, pk, [{ id: doc.id, deleted: false }]) };
  }

  async delete(container: string, pk: string, id: string, options?: { ifMatch?: string }): Promise<void> {
    await this.inner.delete(container, pk, id, options);
    this.record(container, pk, [{ id, deleted: true }]);
  }

  async batch(container: string, pk: string, operations: BatchOperation[]): Promise<BatchResult[]> {
    const results = await this.inner.batch(container, pk, operations);
    if (results.length === 0) return results;
    const lsn = this.record(
      container,
      pk,
      operations.map((op) => ({ id: op.id, deleted: op.op === 'delete' })),
    );
    return results.map((r) => (r.etag === undefined ? r : { ...r, seq: lsn }));
  }

  async query<T>(container: string, filter: QueryFilter): Promise<QueryPage<T>> {
    const page = await this.inner.query<T>(container, filter);
    return { ...page, items: page.items.map((doc) => this.withLsn(container, doc)) };
  }

  count(container: string, filter: Omit<QueryFilter, 'limit' | 'continuation'>): Promise<number> {
    return this.inner.count(container, filter);
  }

  /** The whole-container feed of the store underneath (its own sequence, not the ranges' LSNs). */
  changeFeed(
    container: string,
    options: { continuation?: string; maxItems?: number; types?: readonly string[] },
  ): Promise<ChangeFeedPage> {
    return this.inner.changeFeed(container, options);
  }

  async feedRanges(container: string): Promise<FeedRange[]> {
    return this.rangesOf(container).map((r) => ({ min: r.min, max: r.max }));
  }

  async readFeedRange(
    container: string,
    bounds: FeedRange,
    options: FeedRangeReadOptions,
  ): Promise<FeedRangePage> {
    const range = this.rangesOf(container).find((r) => r.min === bounds.min && r.max === bounds.max);
    const id = `${bounds.min}|${bounds.max}`;
    this.reads.set(id, (this.reads.get(id) ?? 0) + 1);
    if (!range) return { items: [], position: options.after === 'now' ? 0 : options.after, gone: true };
    if (options.after === 'now') return { items: [], position: range.counter };
    const after = options.after;
    const maxItems = options.maxItems ?? 100;
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new StoreError('invalid', 'maxItems');
    const types = options.types && options.types.length > 0 ? new Set(options.types) : undefined;
    const ordered = [...range.entries].filter(([, lsn]) => lsn > after).sort((a, b) => a[1] - b[1]);
    const items: StoredDocument[] = [];
    for (const [k, lsn] of ordered) {
      const [pk, docId] = k.split('\u0000') as [string, string];
      const doc = await this.inner.read(container, pk, docId);
      if (!doc || (types && !types.has(doc.type))) continue;
      items.push({ ...doc, seq: lsn });
      if (items.length >= maxItems) return { items, position: lsn };
    }
    return { items, position: range.counter };
  }

  collection(name: string): DocumentCollection {
    return bindCollection(this, name);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
