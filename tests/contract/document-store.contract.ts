/**
 * The DocumentStore contract: every implementation (embedded SQLite, Cosmos DB) runs this suite.
 * Call describeDocumentStoreContract from a *.test.ts file with a factory that makes an empty store.
 *
 * The factory receives a controllable clock. A store that honours it (stamps `ts` from it and
 * expires documents by it) declares `ttl: true`; one that cannot (a real Cosmos account) declares
 * `ttl: false` and the time-dependent tests are skipped, saying why.
 */
import fc from 'fast-check';
import type { Clock } from '../../shared/ports/clock';
import {
  StoreError,
  type BatchOperation,
  type DocumentStore,
  type StoreErrorCode,
  type StoredDocument,
} from '../../shared/ports/document-store';

export interface DocumentStoreCapabilities {
  /** The store has a change feed (default true). */
  changeFeed?: boolean;
  /** The store stamps `ts` and expires documents by the injected clock (default true). */
  ttl?: boolean;
}

export type DocumentStoreFactory = (
  clock?: Clock,
) => Promise<{ store: DocumentStore; cleanup: () => Promise<void> }>;

/** A clock the tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2030, 0, 1)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** Resolves to the StoreError a promise rejects with, after checking its code. */
export async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode): Promise<StoreError> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected StoreError '${code}', but the call succeeded`);
  expect(outcome.error).toBeInstanceOf(StoreError);
  expect((outcome.error as StoreError).code).toBe(code);
  return outcome.error as StoreError;
}

interface Body {
  n: number;
  [key: string]: unknown;
}

const C = 'things';

export function describeDocumentStoreContract(
  name: string,
  factory: DocumentStoreFactory,
  capabilities: DocumentStoreCapabilities = {},
): void {
  const hasFeed = capabilities.changeFeed ?? true;
  const hasTtl = capabilities.ttl ?? true;
  const feedIt = (title: string, fn: () => Promise<void>) =>
    hasFeed ? it(title, fn) : it.skip(`${title} (skipped: the store has no change feed)`, fn);
  const ttlIt = (title: string, fn: () => Promise<void>) =>
    hasTtl ? it(title, fn) : it.skip(`${title} (skipped: the store does not follow an injected clock)`, fn);

  describe(`DocumentStore contract: ${name}`, () => {
    let store: DocumentStore;
    let clock: ManualClock;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      clock = new ManualClock();
      ({ store, cleanup } = await factory(clock));
    });
    afterEach(async () => {
      await cleanup();
    });

    const put = (pk: string, id: string, body: Body, type = 'thing') =>
      store.upsert(C, pk, { id, type, body });
    const readBody = async (pk: string, id: string, container = C) =>
      (await store.read<Body>(container, pk, id))?.body;

    /** Everything a filter matches, following continuations. */
    async function queryAll(filter: Parameters<DocumentStore['query']>[1]): Promise<StoredDocument<Body>[]> {
      const items: StoredDocument<Body>[] = [];
      let continuation: string | undefined;
      do {
        const page = await store.query<Body>(C, { ...filter, continuation });
        items.push(...page.items);
        continuation = page.continuation;
      } while (continuation !== undefined);
      return items;
    }

    /** Drains the change feed from a continuation; returns the items and the final continuation. */
    async function drainFeed(container: string, from: string | undefined, maxItems: number) {
      const items: StoredDocument[] = [];
      let continuation = from;
      for (;;) {
        const page = await store.changeFeed(container, { continuation, maxItems });
        items.push(...page.items);
        if (page.items.length === 0) return { items, continuation: page.continuation };
        continuation = page.continuation;
      }
    }

    describe('single documents', () => {
      it('create stores a document that read returns with id, pk, type, body, etag and ts', async () => {
        const created = await store.create(C, 'p1', { id: 'a', type: 'thing', body: { n: 1, tags: ['x'] } });
        expect(created).toMatchObject({ id: 'a', pk: 'p1', type: 'thing', body: { n: 1, tags: ['x'] } });
        expect(typeof created.etag).toBe('string');
        expect(created.etag.length).toBeGreaterThan(0);
        expect(typeof created.ts).toBe('number');
        expect(created.expiresAt).toBeUndefined();
        expect(await store.read(C, 'p1', 'a')).toEqual(created);
      });

      it('read of an unknown document returns undefined', async () => {
        expect(await store.read(C, 'p1', 'nope')).toBeUndefined();
      });

      it('create of an existing id fails with conflict and leaves the document unchanged', async () => {
        const first = await store.create(C, 'p1', { id: 'a', type: 'thing', body: { n: 1 } });
        await expectStoreError(store.create(C, 'p1', { id: 'a', type: 'thing', body: { n: 2 } }), 'conflict');
        expect(await store.read(C, 'p1', 'a')).toEqual(first);
      });

      it('upsert creates, then replaces, with a new etag on every write', async () => {
        const etags = new Set<string>();
        for (let n = 0; n < 5; n++) {
          const written = await put('p1', 'a', { n }, n % 2 === 0 ? 'even' : 'odd');
          etags.add(written.etag);
          expect(await store.read(C, 'p1', 'a')).toMatchObject({
            body: { n },
            type: written.type,
            etag: written.etag,
          });
        }
        expect(etags.size).toBe(5);
      });

      it('upsert with the current etag applies; with a stale etag it fails and changes nothing', async () => {
        const v1 = await put('p1', 'a', { n: 1 });
        const v2 = await store.upsert(
          C,
          'p1',
          { id: 'a', type: 'thing', body: { n: 2 } },
          { ifMatch: v1.etag },
        );
        expect(v2.etag).not.toBe(v1.etag);
        await expectStoreError(
          store.upsert(C, 'p1', { id: 'a', type: 'thing', body: { n: 3 } }, { ifMatch: v1.etag }),
          'precondition-failed',
        );
        expect(await store.read(C, 'p1', 'a')).toEqual(v2);
      });

      it('upsert with ifMatch on a missing document fails with precondition-failed and creates nothing', async () => {
        const other = await put('p1', 'other', { n: 1 });
        await expectStoreError(
          store.upsert(C, 'p1', { id: 'a', type: 'thing', body: { n: 1 } }, { ifMatch: other.etag }),
          'precondition-failed',
        );
        expect(await store.read(C, 'p1', 'a')).toBeUndefined();
      });

      it('delete removes the document; deleting it again fails with not-found', async () => {
        await put('p1', 'a', { n: 1 });
        await store.delete(C, 'p1', 'a');
        expect(await store.read(C, 'p1', 'a')).toBeUndefined();
        await expectStoreError(store.delete(C, 'p1', 'a'), 'not-found');
      });

      it('delete with a stale etag fails with precondition-failed; with the current etag it applies', async () => {
        const v1 = await put('p1', 'a', { n: 1 });
        const v2 = await put('p1', 'a', { n: 2 });
        await expectStoreError(store.delete(C, 'p1', 'a', { ifMatch: v1.etag }), 'precondition-failed');
        expect(await store.read(C, 'p1', 'a')).toEqual(v2);
        await store.delete(C, 'p1', 'a', { ifMatch: v2.etag });
        expect(await store.read(C, 'p1', 'a')).toBeUndefined();
      });

      it('an etag from before a delete does not match the re-created document', async () => {
        const old = await put('p1', 'a', { n: 1 });
        await store.delete(C, 'p1', 'a');
        const recreated = await put('p1', 'a', { n: 1 });
        expect(recreated.etag).not.toBe(old.etag);
        await expectStoreError(
          store.upsert(C, 'p1', { id: 'a', type: 'thing', body: { n: 2 } }, { ifMatch: old.etag }),
          'precondition-failed',
        );
      });

      it('containers and partitions are separate namespaces', async () => {
        await store.create(C, 'p1', { id: 'a', type: 'thing', body: { n: 1 } });
        await store.create(C, 'p2', { id: 'a', type: 'thing', body: { n: 2 } });
        await store.create('others', 'p1', { id: 'a', type: 'thing', body: { n: 3 } });
        expect(await readBody('p1', 'a')).toEqual({ n: 1 });
        expect(await readBody('p2', 'a')).toEqual({ n: 2 });
        expect(await readBody('p1', 'a', 'others')).toEqual({ n: 3 });
        await store.delete(C, 'p1', 'a');
        expect(await readBody('p2', 'a')).toEqual({ n: 2 });
        expect(await readBody('p1', 'a', 'others')).toEqual({ n: 3 });
      });

      it('bodies round-trip as JSON, and reads return independent copies', async () => {
        const body = {
          n: -1.5,
          text: 'Zoë 日本 🚀 "quoted" \\ back',
          nested: { list: [1, 'two', null, { deep: true }], empty: {} },
          nothing: null,
          when: new Date(Date.UTC(2030, 0, 2)),
          dropped: undefined,
        };
        const written = await store.create(C, 'p1', { id: 'a', type: 'thing', body });
        const expected = JSON.parse(JSON.stringify(body)) as unknown;
        expect(written.body).toEqual(expected);
        const first = await store.read<typeof expected & { nested: { list: unknown[] } }>(C, 'p1', 'a');
        expect(first?.body).toEqual(expected);
        first?.body.nested.list.push('mutated');
        expect((await store.read(C, 'p1', 'a'))?.body).toEqual(expected);
      });

      it('a body that is not JSON-serialisable is rejected as invalid', async () => {
        const cyclic: Record<string, unknown> = { n: 1 };
        cyclic.self = cyclic;
        await expectStoreError(
          store.create(C, 'p1', { id: 'a', type: 'thing', body: { n: 10n } }),
          'invalid',
        );
        await expectStoreError(store.upsert(C, 'p1', { id: 'a', type: 'thing', body: cyclic }), 'invalid');
        await expectStoreError(store.upsert(C, 'p1', { id: 'a', type: 'thing', body: undefined }), 'invalid');
        expect(await store.read(C, 'p1', 'a')).toBeUndefined();
      });

      it('ids Cosmos DB rejects, an empty type and a bad ttlSeconds are invalid', async () => {
        for (const id of ['', 'a/b', 'a\\b', 'a?b', 'a#b', 'x'.repeat(256)]) {
          await expectStoreError(store.upsert(C, 'p1', { id, type: 'thing', body: { n: 1 } }), 'invalid');
        }
        await expectStoreError(store.upsert(C, 'p1', { id: 'a', type: '', body: { n: 1 } }), 'invalid');
        for (const ttlSeconds of [0, -1, 1.5]) {
          await expectStoreError(
            store.upsert(C, 'p1', { id: 'a', type: 'thing', body: { n: 1 } }, { ttlSeconds }),
            'invalid',
          );
        }
        expect(await store.count(C, {})).toBe(0);
        await store.upsert(C, 'p1', { id: 'x'.repeat(255), type: 'thing', body: { n: 1 } });
      });
    });

    describe('batch', () => {
      it('applies every operation in order and returns one result per operation', async () => {
        const existing = await put('p1', 'old', { n: 0 });
        const doomed = await put('p1', 'doomed', { n: 0 });
        const results = await store.batch(C, 'p1', [
          { op: 'create', id: 'a', type: 'thing', body: { n: 1 } },
          { op: 'upsert', id: 'b', type: 'thing', body: { n: 2 } },
          { op: 'replace', id: 'old', type: 'thing', body: { n: 3 }, ifMatch: existing.etag },
          { op: 'delete', id: 'doomed', ifMatch: doomed.etag },
        ]);
        expect(results.map((result) => result.id)).toEqual(['a', 'b', 'old', 'doomed']);
        const [a, b, old, deleted] = results;
        expect((await store.read(C, 'p1', 'a'))?.etag).toBe(a?.etag);
        expect((await store.read(C, 'p1', 'b'))?.etag).toBe(b?.etag);
        expect(await store.read(C, 'p1', 'old')).toMatchObject({ etag: old?.etag, body: { n: 3 } });
        expect(deleted?.etag).toBeUndefined();
        expect(await store.read(C, 'p1', 'doomed')).toBeUndefined();
        expect(new Set(results.slice(0, 3).map((result) => result.etag)).size).toBe(3);
        for (const result of results) expect(typeof result.ts).toBe('number');
      });

      it('later operations see the effects of earlier ones in the same batch', async () => {
        await store.batch(C, 'p1', [
          { op: 'create', id: 'a', type: 'thing', body: { n: 1 } },
          { op: 'delete', id: 'a' },
          { op: 'create', id: 'b', type: 'thing', body: { n: 1 } },
          { op: 'replace', id: 'b', type: 'thing', body: { n: 2 } },
        ]);
        expect(await store.read(C, 'p1', 'a')).toBeUndefined();
        expect(await readBody('p1', 'b')).toEqual({ n: 2 });
      });

      it('a failing operation in the middle applies nothing and reports its index', async () => {
        const keep = await put('p1', 'keep', { n: 1 });
        const taken = await put('p1', 'taken', { n: 1 });
        const error = await expectStoreError(
          store.batch(C, 'p1', [
            { op: 'create', id: 'a', type: 'thing', body: { n: 1 } },
            { op: 'upsert', id: 'keep', type: 'thing', body: { n: 2 } },
            { op: 'create', id: 'taken', type: 'thing', body: { n: 2 } },
            { op: 'create', id: 'c', type: 'thing', body: { n: 1 } },
          ]),
          'conflict',
        );
        expect(error.operationIndex).toBe(2);
        expect(await store.read(C, 'p1', 'a')).toBeUndefined();
        expect(await store.read(C, 'p1', 'c')).toBeUndefined();
        expect(await store.read(C, 'p1', 'keep')).toEqual(keep);
        expect(await store.read(C, 'p1', 'taken')).toEqual(taken);
        expect(await store.count(C, {})).toBe(2);
      });

      it('reports each kind of failing operation with its code and index', async () => {
        const current = await put('p1', 'x', { n: 1 });
        await put('p1', 'x', { n: 2 });
        const cases: Array<[BatchOperation, StoreErrorCode]> = [
          [{ op: 'replace', id: 'missing', type: 'thing', body: { n: 1 } }, 'not-found'],
          [
            { op: 'replace', id: 'x', type: 'thing', body: { n: 1 }, ifMatch: current.etag },
            'precondition-failed',
          ],
          [
            { op: 'upsert', id: 'x', type: 'thing', body: { n: 1 }, ifMatch: current.etag },
            'precondition-failed',
          ],
          [
            { op: 'upsert', id: 'missing', type: 'thing', body: { n: 1 }, ifMatch: current.etag },
            'precondition-failed',
          ],
          [{ op: 'delete', id: 'missing' }, 'not-found'],
          [{ op: 'delete', id: 'x', ifMatch: current.etag }, 'precondition-failed'],
          [{ op: 'create', id: 'x', type: 'thing', body: { n: 1 } }, 'conflict'],
          [{ op: 'create', id: 'bad', type: 'thing', body: { n: 1n } }, 'invalid'],
          [{ op: 'create', id: 'a/b', type: 'thing', body: { n: 1 } }, 'invalid'],
        ];
        const before = await store.read(C, 'p1', 'x');
        for (const [failing, code] of cases) {
          const error = await expectStoreError(
            store.batch(C, 'p1', [{ op: 'upsert', id: 'first', type: 'thing', body: { n: 0 } }, failing]),
            code,
          );
          expect(error.operationIndex).toBe(1);
        }
        expect(await store.read(C, 'p1', 'first')).toBeUndefined();
        expect(await store.read(C, 'p1', 'x')).toEqual(before);
      });

      it('accepts 100 operations and rejects 101 as invalid, applying none of them', async () => {
        const ops = (count: number, prefix: string): BatchOperation[] =>
          Array.from({ length: count }, (_, i) => ({
            op: 'create',
            id: `${prefix}${i}`,
            type: 'thing',
            body: { n: i },
          }));
        expect(await store.batch(C, 'p1', ops(100, 'ok'))).toHaveLength(100);
        await expectStoreError(store.batch(C, 'p1', ops(101, 'big')), 'invalid');
        expect(await store.count(C, {})).toBe(100);
        expect(await store.count(C, { idPrefix: 'big' })).toBe(0);
      });

      it('rejects malformed operations as invalid, naming the operation, and applies none', async () => {
        const good: BatchOperation = { op: 'create', id: 'ok', type: 'thing', body: { n: 1 } };
        const malformed: unknown[] = [
          { op: 'merge', id: 'a', type: 'thing', body: { n: 1 } },
          { op: 'DELETE', id: 'a' },
          { id: 'a', type: 'thing', body: { n: 1 } },
          null,
          'create',
          [good],
          { op: 'delete', id: 'a', ifMatch: 7 },
          { op: 'upsert', id: 'a', type: 'thing', body: { n: 1 }, ifMatch: { etag: 'x' } },
        ];
        for (const op of malformed) {
          const error = await expectStoreError(store.batch(C, 'p1', [good, op as BatchOperation]), 'invalid');
          expect(error.operationIndex).toBe(1);
        }
        await expectStoreError(store.batch(C, 'p1', good as unknown as BatchOperation[]), 'invalid');
        await expectStoreError(store.delete(C, 'p1', 'ok', { ifMatch: 7 as unknown as string }), 'invalid');
        expect(await store.count(C, {})).toBe(0);
      });

      it('ifMatch means the same on delete as on every other operation; a create ignores it', async () => {
        const first = await put('p1', 'a', { n: 1 });
        const second = await put('p1', 'a', { n: 2 });
        await expectStoreError(store.delete(C, 'p1', 'a', { ifMatch: first.etag }), 'precondition-failed');
        await expectStoreError(
          store.batch(C, 'p1', [{ op: 'delete', id: 'a', ifMatch: first.etag }]),
          'precondition-failed',
        );
        await expectStoreError(store.delete(C, 'p1', 'missing', { ifMatch: first.etag }), 'not-found');
        await store.batch(C, 'p1', [{ op: 'delete', id: 'a', ifMatch: second.etag }]);
        expect(await store.read(C, 'p1', 'a')).toBeUndefined();
        const created = await store.batch(C, 'p1', [
          { op: 'create', id: 'b', type: 'thing', body: { n: 1 }, ifMatch: '"nope"' } as BatchOperation,
        ]);
        expect(created[0]?.etag).toBeDefined();
      });

      it('an empty batch is a no-op', async () => {
        expect(await store.batch(C, 'p1', [])).toEqual([]);
        expect(await store.count(C, {})).toBe(0);
      });

      it('writes only into its own partition', async () => {
        await store.batch(C, 'p1', [{ op: 'create', id: 'a', type: 'thing', body: { n: 1 } }]);
        expect(await store.read(C, 'p2', 'a')).toBeUndefined();
        await expectStoreError(store.batch(C, 'p2', [{ op: 'delete', id: 'a' }]), 'not-found');
        expect(await readBody('p1', 'a')).toEqual({ n: 1 });
      });
    });

    describe('query and count', () => {
      async function seed(): Promise<void> {
        for (const pk of ['p2', 'p1', 'p3']) {
          await store.batch(
            C,
            pk,
            ['b', 'a', 'c'].map((id, i) => ({
              op: 'create' as const,
              id: `${id}-${pk}`,
              type: i === 0 ? 'user' : 'event',
              body: { n: i, status: i === 1 ? 'active' : 'idle', flag: i === 2, label: String(i) },
            })),
          );
        }
        await store.create('others', 'p1', { id: 'a-p1', type: 'user', body: { n: 0 } });
      }
      const keys = (items: StoredDocument[]) => items.map((item) => `${item.pk}/${item.id}`);

      it('returns every document of the container in (pk, id) order without filters', async () => {
        await seed();
        const { items, continuation } = await store.query<Body>(C, {});
        expect(continuation).toBeUndefined();
        expect(keys(items)).toEqual([
          ...['p1/a-p1', 'p1/b-p1', 'p1/c-p1'],
          ...['p2/a-p2', 'p2/b-p2', 'p2/c-p2'],
          ...['p3/a-p3', 'p3/b-p3', 'p3/c-p3'],
        ]);
        expect(items[0]).toMatchObject({ type: 'event', body: { n: 1, status: 'active' } });
      });

      it('filters by type, pk and id prefix', async () => {
        await seed();
        expect(keys((await store.query(C, { type: 'user' })).items)).toEqual([
          'p1/b-p1',
          'p2/b-p2',
          'p3/b-p3',
        ]);
        expect(keys((await store.query(C, { pk: 'p2' })).items)).toEqual(['p2/a-p2', 'p2/b-p2', 'p2/c-p2']);
        expect(keys((await store.query(C, { idPrefix: 'c-' })).items)).toEqual([
          'p1/c-p1',
          'p2/c-p2',
          'p3/c-p3',
        ]);
        expect(keys((await store.query(C, { type: 'event', pk: 'p3', idPrefix: 'a' })).items)).toEqual([
          'p3/a-p3',
        ]);
        expect((await store.query(C, { type: 'nothing' })).items).toEqual([]);
      });

      it('idPrefix takes LIKE and GLOB characters literally', async () => {
        for (const id of ['a%1', 'ab1', 'a_1', 'aX1', 'a*1', 'a[1', 'A%1']) await put('p1', id, { n: 1 });
        const ids = async (idPrefix: string) =>
          (await store.query(C, { idPrefix })).items.map((item) => item.id);
        expect(await ids('a%')).toEqual(['a%1']);
        expect(await ids('a_')).toEqual(['a_1']);
        expect(await ids('a*')).toEqual(['a*1']);
        expect(await ids('a[')).toEqual(['a[1']);
        expect(await ids('a')).toHaveLength(6);
      });

      it('where matches top-level body fields by value and JSON type', async () => {
        await seed();
        await put('p4', 'typed', { n: 1, status: 'active', label: 1, flag: 1 } as unknown as Body);
        await put('p4', 'nested', { n: 9, inner: { status: 'active' } });
        await put('p4', 'listed', { n: 9, label: ['1'], status: { active: true } } as unknown as Body);
        const where = async (w: Record<string, string | number | boolean>) =>
          keys((await store.query(C, { where: w })).items);
        expect(await where({ status: 'active' })).toEqual(['p1/a-p1', 'p2/a-p2', 'p3/a-p3', 'p4/typed']);
        expect(await where({ label: '1' })).toEqual(['p1/a-p1', 'p2/a-p2', 'p3/a-p3']);
        expect(await where({ label: 1 })).toEqual(['p4/typed']);
        expect(await where({ flag: true })).toEqual(['p1/c-p1', 'p2/c-p2', 'p3/c-p3']);
        expect(await where({ flag: 1 })).toEqual(['p4/typed']);
        expect(await where({ n: 2, flag: true, status: 'idle' })).toEqual(['p1/c-p1', 'p2/c-p2', 'p3/c-p3']);
        expect(await where({ n: 2, flag: false })).toEqual([]);
        expect(await where({ missing: 'x' })).toEqual([]);
        // Objects and arrays never equal a string, not even their own JSON text.
        expect(await where({ label: '["1"]' })).toEqual([]);
        expect(await where({ status: '{"active":true}' })).toEqual([]);
        expect(
          keys((await store.query(C, { pk: 'p2', type: 'event', where: { flag: false } })).items),
        ).toEqual(['p2/a-p2']);
      });

      it('rejects where field names outside [A-Za-z0-9_] as invalid', async () => {
        await seed();
        for (const field of ['a.b', "x') OR 1=1 --", 'a b', '$', '']) {
          await expectStoreError(store.query(C, { where: { [field]: 1 } }), 'invalid');
          await expectStoreError(store.count(C, { where: { [field]: 1 } }), 'invalid');
        }
      });

      it('pages with limit and continuation without duplicates or gaps', async () => {
        for (const pk of ['p1', 'p2', 'p3']) {
          await store.batch(
            C,
            pk,
            Array.from({ length: 19 }, (_, i) => ({
              op: 'create' as const,
              id: `d${i}`,
              type: 'thing',
              body: { n: i },
            })),
          );
        }
        const all = (await store.query<Body>(C, { limit: 1000 })).items;
        expect(all).toHaveLength(57);
        const pages: number[] = [];
        const seen: StoredDocument<Body>[] = [];
        let continuation: string | undefined;
        do {
          const page = await store.query<Body>(C, { limit: 10, continuation });
          pages.push(page.items.length);
          seen.push(...page.items);
          continuation = page.continuation;
        } while (continuation !== undefined);
        expect(pages).toEqual([10, 10, 10, 10, 10, 7]);
        expect(seen).toEqual(all);
        expect(await queryAll({ pk: 'p2', limit: 4 })).toEqual(all.filter((doc) => doc.pk === 'p2'));
      });

      it('paging stays consistent when documents change between pages', async () => {
        for (let i = 0; i < 20; i++) await put('p1', `d${String(i).padStart(2, '0')}`, { n: i });
        const first = await store.query<Body>(C, { limit: 8 });
        expect(first.items.map((item) => item.id)).toEqual(Array.from({ length: 8 }, (_, i) => `d0${i}`));
        await put('p1', 'd00a', { n: 100 }); // before the cursor: not returned again
        await put('p1', 'd15a', { n: 101 }); // after the cursor: returned
        await store.delete(C, 'p1', 'd12'); // after the cursor: gone
        const rest: string[] = [];
        let continuation = first.continuation;
        while (continuation !== undefined) {
          const page = await store.query<Body>(C, { limit: 8, continuation });
          rest.push(...page.items.map((item) => item.id));
          continuation = page.continuation;
        }
        const expected = [
          'd08',
          'd09',
          'd10',
          'd11',
          'd13',
          'd14',
          'd15',
          'd15a',
          'd16',
          'd17',
          'd18',
          'd19',
        ];
        expect(rest).toEqual(expected);
      });

      it('limit defaults to 100 and is capped at 1000', async () => {
        for (let b = 0; b < 11; b++) {
          await store.batch(
            C,
            `p${b}`,
            Array.from({ length: 100 }, (_, i) => ({
              op: 'create' as const,
              id: `d${i}`,
              type: 'thing',
              body: { n: i },
            })),
          );
        }
        const byDefault = await store.query(C, {});
        expect(byDefault.items).toHaveLength(100);
        expect(byDefault.continuation).toBeDefined();
        const capped = await store.query(C, { limit: 5000 });
        expect(capped.items.length).toBeLessThanOrEqual(1000);
        expect(capped.continuation).toBeDefined();
        expect(await store.count(C, {})).toBe(1100);
      });

      it('rejects a bad limit or continuation as invalid', async () => {
        await seed();
        for (const limit of [0, -1, 1.5]) await expectStoreError(store.query(C, { limit }), 'invalid');
        await expectStoreError(store.query(C, { continuation: 'not a continuation' }), 'invalid');
      });

      it('count applies the same filters as query', async () => {
        await seed();
        expect(await store.count(C, {})).toBe(9);
        expect(await store.count('others', {})).toBe(1);
        expect(await store.count('empty', {})).toBe(0);
        expect(await store.count(C, { type: 'event' })).toBe(6);
        expect(await store.count(C, { pk: 'p1', type: 'event' })).toBe(2);
        expect(await store.count(C, { idPrefix: 'b-' })).toBe(3);
        expect(await store.count(C, { where: { flag: true } })).toBe(3);
        expect(await store.count(C, { type: 'user', where: { status: 'idle', n: 0 } })).toBe(3);
      });
    });

    describe('time to live', () => {
      ttlIt('ts comes from the store clock and expiresAt is ts + ttlSeconds', async () => {
        const plain = await put('p1', 'a', { n: 1 });
        expect(plain.ts).toBe(clock.now());
        clock.advance(1234);
        const expiring = await store.upsert(
          C,
          'p1',
          { id: 'b', type: 'thing', body: { n: 1 } },
          { ttlSeconds: 60 },
        );
        expect(expiring.ts).toBe(clock.now());
        expect(expiring.expiresAt).toBe(clock.now() + 60_000);
        expect((await store.read(C, 'p1', 'b'))?.expiresAt).toBe(expiring.expiresAt);
        const [result] = await store.batch(C, 'p1', [
          { op: 'upsert', id: 'c', type: 'thing', body: { n: 1 } },
        ]);
        expect(result?.ts).toBe(clock.now());
      });

      ttlIt('an expired document is invisible to read, query, count and the change feed', async () => {
        await put('p1', 'stays', { n: 1 });
        await store.upsert(C, 'p1', { id: 'goes', type: 'thing', body: { n: 1 } }, { ttlSeconds: 10 });
        await store.batch(C, 'p1', [
          { op: 'create', id: 'goes2', type: 'thing', body: { n: 1 }, ttlSeconds: 10 },
        ]);
        clock.advance(9_999);
        expect(await store.read(C, 'p1', 'goes')).toBeDefined();
        expect(await store.count(C, {})).toBe(3);
        clock.advance(1);
        expect(await store.read(C, 'p1', 'goes')).toBeUndefined();
        expect(await store.read(C, 'p1', 'goes2')).toBeUndefined();
        expect((await store.query(C, {})).items.map((item) => item.id)).toEqual(['stays']);
        expect(await store.count(C, { where: { n: 1 } })).toBe(1);
        if (hasFeed) {
          expect((await store.changeFeed(C, {})).items.map((item) => item.id)).toEqual(['stays']);
        }
      });

      ttlIt('a write over an expired document behaves as if it did not exist', async () => {
        const old = await store.upsert(
          C,
          'p1',
          { id: 'a', type: 'thing', body: { n: 1 } },
          { ttlSeconds: 1 },
        );
        clock.advance(1_000);
        await expectStoreError(
          store.upsert(C, 'p1', { id: 'a', type: 'thing', body: { n: 2 } }, { ifMatch: old.etag }),
          'precondition-failed',
        );
        await expectStoreError(store.delete(C, 'p1', 'a'), 'not-found');
        const replace = await expectStoreError(
          store.batch(C, 'p1', [{ op: 'replace', id: 'a', type: 'thing', body: { n: 2 } }]),
          'not-found',
        );
        expect(replace.operationIndex).toBe(0);
        const created = await store.create(C, 'p1', { id: 'a', type: 'thing', body: { n: 3 } });
        expect(created.expiresAt).toBeUndefined();
        expect(await readBody('p1', 'a')).toEqual({ n: 3 });
      });

      ttlIt('a write without ttlSeconds clears an earlier expiry; a new ttl restarts it', async () => {
        await store.upsert(C, 'p1', { id: 'a', type: 'thing', body: { n: 1 } }, { ttlSeconds: 5 });
        await put('p1', 'a', { n: 2 });
        await store.upsert(C, 'p1', { id: 'b', type: 'thing', body: { n: 1 } }, { ttlSeconds: 5 });
        clock.advance(4_000);
        await store.upsert(C, 'p1', { id: 'b', type: 'thing', body: { n: 2 } }, { ttlSeconds: 5 });
        clock.advance(4_000);
        expect(await readBody('p1', 'a')).toEqual({ n: 2 });
        expect(await readBody('p1', 'b')).toEqual({ n: 2 });
        clock.advance(1_000);
        expect(await readBody('p1', 'b')).toBeUndefined();
        expect(await readBody('p1', 'a')).toEqual({ n: 2 });
      });
    });

    describe('change feed', () => {
      const ids = (items: StoredDocument[]) => items.map((item) => item.id);

      feedIt(
        'gives each write a sequence, in commit order, on batch results, reads and feed items',
        async () => {
          const [first] = await store.batch(C, 'p1', [
            { op: 'create', id: 'a', type: 'thing', body: { n: 1 } },
          ]);
          const written = await store.upsert(C, 'p2', { id: 'b', type: 'thing', body: { n: 1 } });
          expect(first?.seq).toEqual(expect.any(Number));
          expect(written.seq).toBeGreaterThan(first?.seq as number);
          expect((await store.read(C, 'p1', 'a'))?.seq).toBe(first?.seq);
          const feed = await store.changeFeed(C, {});
          expect(feed.items.map((i) => i.seq)).toEqual([first?.seq, written.seq]);
        },
      );

      feedIt('filters by document type without skipping later items of that type', async () => {
        await put('p1', 'a', { n: 1 }, 'event');
        await put('p1', 'b', { n: 1 }, 'profile');
        await put('p2', 'c', { n: 1 }, 'event');
        const first = await store.changeFeed(C, { types: ['event'], maxItems: 1 });
        expect(ids(first.items)).toEqual(['a']);
        const rest = await store.changeFeed(C, { types: ['event'], continuation: first.continuation });
        expect(ids(rest.items)).toEqual(['c']);
        await put('p3', 'd', { n: 1 }, 'event');
        const later = await store.changeFeed(C, { types: ['event'], continuation: rest.continuation });
        expect(ids(later.items)).toEqual(['d']);
        expect(ids((await store.changeFeed(C, { types: ['profile', 'event'] })).items)).toEqual([
          'a',
          'b',
          'c',
          'd',
        ]);
      });

      feedIt('lists changed documents in commit order from the start', async () => {
        await put('p2', 'b', { n: 1 });
        await put('p1', 'c', { n: 1 });
        await store.batch(C, 'p3', [
          { op: 'create', id: 'a', type: 'thing', body: { n: 1 } },
          { op: 'create', id: 'd', type: 'thing', body: { n: 1 } },
        ]);
        const page = await store.changeFeed(C, {});
        expect(ids(page.items)).toEqual(['b', 'c', 'a', 'd']);
        expect(page.items[2]).toEqual(await store.read(C, 'p3', 'a'));
      });

      feedIt('returns only the latest version of a document, at the place of its latest write', async () => {
        await put('p1', 'a', { n: 1 });
        await put('p1', 'b', { n: 1 });
        await put('p1', 'a', { n: 2 });
        await put('p1', 'c', { n: 1 });
        const page = await store.changeFeed(C, {});
        expect(ids(page.items)).toEqual(['b', 'a', 'c']);
        expect(page.items[1]?.body).toEqual({ n: 2 });
      });

      feedIt('resumes after its continuation, which stays put while nothing changes', async () => {
        await put('p1', 'a', { n: 1 });
        const first = await store.changeFeed(C, {});
        expect(ids(first.items)).toEqual(['a']);
        const idle = await store.changeFeed(C, { continuation: first.continuation });
        expect(idle.items).toEqual([]);
        expect(idle.continuation).toBe(first.continuation);
        await put('p1', 'b', { n: 1 });
        await put('p1', 'a', { n: 2 });
        const next = await store.changeFeed(C, { continuation: idle.continuation });
        expect(ids(next.items)).toEqual(['b', 'a']);
        expect(next.items[1]?.body).toEqual({ n: 2 });
        expect((await store.changeFeed(C, { continuation: next.continuation })).items).toEqual([]);
      });

      feedIt('an empty feed returns a continuation that later picks up the first write', async () => {
        const empty = await store.changeFeed(C, {});
        expect(empty.items).toEqual([]);
        await put('p1', 'a', { n: 1 });
        expect(ids((await store.changeFeed(C, { continuation: empty.continuation })).items)).toEqual(['a']);
      });

      feedIt('pages with maxItems (default 100) without duplicates or gaps', async () => {
        for (let b = 0; b < 3; b++) {
          await store.batch(
            C,
            `p${b}`,
            Array.from({ length: 50 }, (_, i) => ({
              op: 'create' as const,
              id: `d${b}-${i}`,
              type: 'thing',
              body: { n: i },
            })),
          );
        }
        const expected = Array.from({ length: 150 }, (_, k) => `d${Math.floor(k / 50)}-${k % 50}`);
        expect(ids((await store.changeFeed(C, {})).items)).toEqual(expected.slice(0, 100));
        const { items } = await drainFeed(C, undefined, 7);
        expect(ids(items)).toEqual(expected);
      });

      feedIt('hard deletes never appear', async () => {
        await put('p1', 'a', { n: 1 });
        await put('p1', 'b', { n: 1 });
        await store.delete(C, 'p1', 'a');
        const page = await store.changeFeed(C, {});
        expect(ids(page.items)).toEqual(['b']);
        await store.delete(C, 'p1', 'b');
        await store.batch(C, 'p2', [
          { op: 'create', id: 'c', type: 'thing', body: { n: 1 } },
          { op: 'delete', id: 'c' },
        ]);
        const after = await store.changeFeed(C, { continuation: page.continuation });
        expect(after.items).toEqual([]);
        expect((await store.changeFeed(C, {})).items).toEqual([]);
      });

      feedIt('failed writes and failed batches leave no trace in the feed', async () => {
        const v1 = await put('p1', 'a', { n: 1 });
        const start = await store.changeFeed(C, {});
        await expectStoreError(store.create(C, 'p1', { id: 'a', type: 'thing', body: { n: 2 } }), 'conflict');
        await expectStoreError(
          store.batch(C, 'p1', [
            { op: 'create', id: 'b', type: 'thing', body: { n: 1 } },
            { op: 'delete', id: 'nope' },
          ]),
          'not-found',
        );
        const after = await store.changeFeed(C, { continuation: start.continuation });
        expect(after.items).toEqual([]);
        expect(await store.read(C, 'p1', 'a')).toEqual(v1);
      });

      feedIt('each container has its own feed', async () => {
        await put('p1', 'a', { n: 1 });
        await store.upsert('others', 'p1', { id: 'z', type: 'thing', body: { n: 1 } });
        expect(ids((await store.changeFeed(C, {})).items)).toEqual(['a']);
        expect(ids((await store.changeFeed('others', {})).items)).toEqual(['z']);
        expect((await store.changeFeed('empty', {})).items).toEqual([]);
      });

      feedIt('a consumer polling while writers write misses no document version', async () => {
        const final = new Map<string, string>();
        let writing = true;
        const writer = async (w: number) => {
          for (let i = 0; i < 60; i++) {
            const id = `w${w}-${i % 20}`;
            const written = await put(`p${w}`, id, { n: i });
            final.set(id, written.etag);
          }
        };
        const seen = new Map<string, string>();
        const consume = async () => {
          let continuation: string | undefined;
          const pull = async () => {
            const page = await store.changeFeed(C, { continuation, maxItems: 5 });
            for (const item of page.items) seen.set(item.id, item.etag);
            continuation = page.continuation;
            return page.items.length;
          };
          // Like any real poller, yield to the event loop between polls (a store may commit
          // writes in a later turn, e.g. the SQLite store's group commit).
          const turn = () => new Promise((resolve) => setImmediate(resolve));
          while (writing) {
            await pull();
            await turn();
          }
          while ((await pull()) > 0);
        };
        const consumer = consume();
        await Promise.all([writer(0), writer(1), writer(2)]);
        writing = false;
        await consumer;
        expect(seen).toEqual(final);
      });

      feedIt('rejects a bad maxItems or continuation as invalid', async () => {
        await put('p1', 'a', { n: 1 });
        for (const maxItems of [0, -1, 1.5])
          await expectStoreError(store.changeFeed(C, { maxItems }), 'invalid');
        await expectStoreError(store.changeFeed(C, { continuation: 'not a continuation' }), 'invalid');
      });
    });

    describe('model-based property', () => {
      type Command =
        | { kind: 'upsert'; key: number; n: number; condition: 'none' | 'current' | 'stale' }
        | { kind: 'create'; key: number; n: number }
        | { kind: 'delete'; key: number; condition: 'none' | 'current' | 'stale' }
        | { kind: 'poll'; maxItems: number };

      const key = fc.integer({ min: 0, max: 4 });
      const condition = fc.constantFrom('none' as const, 'current' as const, 'stale' as const);
      const command: fc.Arbitrary<Command> = fc.oneof(
        fc.record({ kind: fc.constant('upsert' as const), key, n: fc.integer(), condition }),
        fc.record({ kind: fc.constant('create' as const), key, n: fc.integer() }),
        fc.record({ kind: fc.constant('delete' as const), key, condition }),
        fc.record({ kind: fc.constant('poll' as const), maxItems: fc.integer({ min: 1, max: 3 }) }),
      );
      const address = (k: number) => ({ pk: `p${k % 2}`, id: `k${k}` });

      it('random writes leave the store equal to a Map model, and the change feed agrees', async () => {
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(command, { maxLength: 40 }), async (commands) => {
            const container = `prop${run++}`;
            const model = new Map<number, { n: number; etag: string; order: number }>();
            const issued = new Set<string>();
            const consumed = new Map<string, string>();
            let cursor: string | undefined;
            let order = 0;

            for (const cmd of commands) {
              if (cmd.kind === 'poll') {
                if (!hasFeed) continue;
                const page = await store.changeFeed(container, {
                  continuation: cursor,
                  maxItems: cmd.maxItems,
                });
                for (const item of page.items) {
                  // Every item is a version the consumer has not been given before.
                  expect(consumed.get(item.id)).not.toBe(item.etag);
                  consumed.set(item.id, item.etag);
                }
                cursor = page.continuation;
                continue;
              }
              const { pk, id } = address(cmd.key);
              const current = model.get(cmd.key);
              const condition = cmd.kind === 'create' ? 'none' : cmd.condition;
              const staleEtag = [...issued].find((etag) => etag !== current?.etag) ?? '"never-issued"';
              const ifMatch =
                condition === 'current'
                  ? (current?.etag ?? staleEtag)
                  : condition === 'stale'
                    ? staleEtag
                    : undefined;
              type Outcome = { deleted: true } | { etag: string } | { code: StoreErrorCode };
              const outcome = await (async (): Promise<Outcome> => {
                try {
                  if (cmd.kind === 'delete') {
                    await store.delete(container, pk, id, { ifMatch });
                    return { deleted: true };
                  }
                  const doc = { id, type: 'prop', body: { n: cmd.n } };
                  const written =
                    cmd.kind === 'create'
                      ? await store.create(container, pk, doc)
                      : await store.upsert(container, pk, doc, { ifMatch });
                  return { etag: written.etag };
                } catch (error) {
                  if (error instanceof StoreError) return { code: error.code };
                  throw error;
                }
              })();

              let expected: StoreErrorCode | undefined;
              if (cmd.kind === 'create') expected = current ? 'conflict' : undefined;
              else if (cmd.kind === 'delete' && !current) expected = 'not-found';
              else if (ifMatch !== undefined && ifMatch !== current?.etag) expected = 'precondition-failed';
              expect('code' in outcome ? outcome.code : undefined).toBe(expected);

              if ('etag' in outcome) {
                expect(issued.has(outcome.etag)).toBe(false);
                issued.add(outcome.etag);
                if (cmd.kind === 'delete') throw new Error('a delete returned an etag');
                model.set(cmd.key, { n: cmd.n, etag: outcome.etag, order: order++ });
              } else if ('deleted' in outcome) {
                model.delete(cmd.key);
              }
            }

            const survivors = [...model.entries()].map(([k, v]) => ({ ...address(k), ...v }));
            for (let k = 0; k < 5; k++) {
              const { pk, id } = address(k);
              const doc = await store.read<Body>(container, pk, id);
              const expected = model.get(k);
              expect(doc ? { n: doc.body.n, etag: doc.etag } : undefined).toEqual(
                expected ? { n: expected.n, etag: expected.etag } : undefined,
              );
            }
            const byKey = (a: { pk: string; id: string }, b: { pk: string; id: string }) =>
              a.pk === b.pk ? (a.id < b.id ? -1 : 1) : a.pk < b.pk ? -1 : 1;
            const listed = (await store.query<Body>(container, {})).items;
            expect(listed.map((doc) => doc.etag)).toEqual([...survivors].sort(byKey).map((doc) => doc.etag));
            expect(await store.count(container, {})).toBe(model.size);

            if (hasFeed) {
              const inOrder = [...survivors].sort((a, b) => a.order - b.order);
              const fromStart = await store.changeFeed(container, { maxItems: 1000 });
              expect(fromStart.items.map((doc) => doc.etag)).toEqual(inOrder.map((doc) => doc.etag));
              // The incremental consumer, once drained, holds the latest version of every survivor.
              const rest = await drainFeed(container, cursor, 2);
              for (const item of rest.items) consumed.set(item.id, item.etag);
              for (const doc of survivors) expect(consumed.get(doc.id)).toBe(doc.etag);
            }
          }),
          { numRuns: 60 },
        );
      });
    });
  });
}
