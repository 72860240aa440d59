import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  changeFeedSql,
  openSqliteDocumentStore,
  SqliteDocumentStore,
} from '../../shared/adapters/embedded/sqlite-document-store';
import { isStoreError, type StoredDocument } from '../../shared/ports/document-store';
import {
  describeDocumentStoreContract,
  expectStoreError,
  ManualClock,
} from '../contract/document-store.contract';
import { COUNTER_CONTAINER, WRITER_CONTAINER, writerBody } from '../helpers/sqlite-writer';

const REGISTER_TS = join(__dirname, '..', 'helpers', 'register-ts.js');
const CHILD = join(__dirname, '..', 'helpers', 'sqlite-writer.ts');

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-sqlite-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describeDocumentStoreContract('SqliteDocumentStore (file)', async (clock) => {
  const dir = tempDir();
  // A nested path also checks that the parent directory is created.
  const store = new SqliteDocumentStore({
    path: join(dir, 'nested', 'data', 'bridge.db'),
    clock,
    purgeIntervalMs: 0,
  });
  return { store, cleanup: () => store.close() };
});

describeDocumentStoreContract('SqliteDocumentStore (:memory:)', async (clock) => {
  const store = new SqliteDocumentStore({ path: ':memory:', clock, purgeIntervalMs: 0 });
  return { store, cleanup: () => store.close() };
});

/** A child process running tests/helpers/sqlite-writer.ts, with its stdout as lines. */
function startChild(mode: 'writer' | 'increment', path: string, count: number) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--require', REGISTER_TS, CHILD, mode, path, String(count)],
    { stdio: 'pipe' },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve, reject) => {
    lines.once('line', (line) => (line === 'ready' ? resolve() : reject(new Error(`unexpected ${line}`))));
    child.once('exit', () => reject(new Error(`child exited before ready: ${stderr}`)));
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, lines, ready, exited, go: () => child.stdin.end('go\n'), stderr: () => stderr };
}

describe('SqliteDocumentStore specifics', () => {
  it('opens <dataDir>/bridge.db in WAL mode, and the data survives a reopen', async () => {
    const dir = join(tempDir(), 'fresh');
    const store = openSqliteDocumentStore(dir, { purgeIntervalMs: 0 });
    const written = await store.create('c', 'p', { id: 'a', type: 't', body: { n: 1 } });
    await store.close();
    expect(existsSync(join(dir, 'bridge.db'))).toBe(true);
    const raw = new Database(join(dir, 'bridge.db'), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    const reopened = openSqliteDocumentStore(dir, { durability: 'full', purgeIntervalMs: 0 });
    expect(await reopened.read('c', 'p', 'a')).toEqual(written);
    const next = await reopened.upsert('c', 'p', { id: 'b', type: 't', body: { n: 2 } });
    expect(next.etag).not.toBe(written.etag);
    await reopened.close();
  });

  it('the change feed walks the table in seq order: no index, no sort, whatever the filter', async () => {
    const path = join(tempDir(), 'bridge.db');
    const store = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
    await store.upsert('c', 'p', { id: 'a', type: 't', body: {} });
    await store.close();
    const raw = new Database(path, { readonly: true });
    for (const types of [0, 1, 3]) {
      const params = { after: 0, container: 'c', now: 0, maxItems: 10, t0: 'a', t1: 'b', t2: 'c' };
      const plan = (
        raw.prepare(`EXPLAIN QUERY PLAN ${changeFeedSql(types)}`).all(params) as { detail: string }[]
      )
        .map((row) => row.detail)
        .join(' | ');
      expect(plan).toBe('SEARCH docs USING INTEGER PRIMARY KEY (rowid>?)');
    }
    raw.close();
  });

  it('purgeExpired deletes expired rows, and the purge timer does so by itself', async () => {
    const path = join(tempDir(), 'bridge.db');
    const clock = new ManualClock();
    const manual = new SqliteDocumentStore({ path, clock, purgeIntervalMs: 0 });
    await manual.upsert('c', 'p', { id: 'short', type: 't', body: {} }, { ttlSeconds: 1 });
    await manual.upsert('c', 'p', { id: 'long', type: 't', body: {} }, { ttlSeconds: 100 });
    await manual.upsert('c', 'p', { id: 'forever', type: 't', body: {} });
    const rows = () => {
      const raw = new Database(path, { readonly: true });
      const count = raw.prepare('SELECT count(*) FROM docs').pluck().get() as number;
      raw.close();
      return count;
    };
    expect(manual.purgeExpired()).toBe(0);
    clock.advance(1_000);
    expect(manual.purgeExpired()).toBe(1);
    expect(rows()).toBe(2);
    await manual.close();

    const timed = new SqliteDocumentStore({ path, clock, purgeIntervalMs: 20 });
    clock.advance(100_000);
    const deadline = Date.now() + 5_000;
    while (rows() > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rows()).toBe(1);
    expect((await timed.read('c', 'p', 'forever'))?.id).toBe('forever');
    await timed.close();
  });

  it('after close, calls fail with unavailable; ping works while open', async () => {
    const store = new SqliteDocumentStore({ path: ':memory:' });
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await store.close();
    await expectStoreError(store.ping(), 'unavailable');
    await expectStoreError(store.read('c', 'p', 'a'), 'unavailable');
    await expectStoreError(store.upsert('c', 'p', { id: 'a', type: 't', body: {} }), 'unavailable');
  });

  it('two instances on one file share documents, one etag sequence and one change feed', async () => {
    const path = join(tempDir(), 'bridge.db');
    const a = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
    const b = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
    const etags = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const writer = i % 2 === 0 ? a : b;
      etags.add((await writer.upsert('c', 'p', { id: `d${i % 5}`, type: 't', body: { i } })).etag);
    }
    expect(etags.size).toBe(20);
    expect((await b.read('c', 'p', 'd4'))?.body).toEqual({ i: 19 });
    const feedA = await a.changeFeed('c', {});
    const feedB = await b.changeFeed('c', {});
    expect(feedA).toEqual(feedB);
    expect(feedA.items.map((item) => item.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    await a.close();
    await b.close();
  });

  it('interleaved read-modify-write increments through two instances lose no update', async () => {
    const path = join(tempDir(), 'bridge.db');
    const stores = [0, 1].map(() => new SqliteDocumentStore({ path, purgeIntervalMs: 0 }));
    await stores[0]?.create('c', 'p', { id: 'counter', type: 'counter', body: { count: 0 } });
    let retries = 0;
    const worker = async (store: SqliteDocumentStore) => {
      for (let i = 0; i < 100; i++) {
        for (;;) {
          const current = (await store.read<{ count: number }>('c', 'p', 'counter')) as StoredDocument<{
            count: number;
          }>;
          // Yield between read and write so the other worker can get in between.
          await new Promise((resolve) => setImmediate(resolve));
          try {
            const body = { count: current.body.count + 1 };
            await store.upsert('c', 'p', { id: 'counter', type: 'counter', body }, { ifMatch: current.etag });
            break;
          } catch (error) {
            if (!isStoreError(error, 'precondition-failed')) throw error;
            retries++;
          }
        }
      }
    };
    await Promise.all(stores.map(worker));
    expect(retries).toBeGreaterThan(0);
    expect((await stores[1]?.read<{ count: number }>('c', 'p', 'counter'))?.body.count).toBe(200);
    for (const store of stores) await store.close();
  });

  it('two processes incrementing one document with conditional writes lose no update', async () => {
    const path = join(tempDir(), 'bridge.db');
    const perChild = 1500;
    const children = [startChild('increment', path, perChild), startChild('increment', path, perChild)];
    await Promise.all(children.map((child) => child.ready));
    children.forEach((child) => child.go());
    const results = await Promise.all(children.map((child) => child.exited));
    children.forEach((child, i) => expect([results[i], child.stderr()]).toEqual([[0, null], '']));
    const store = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
    expect((await store.read<{ count: number }>(COUNTER_CONTAINER, 'p', 'counter'))?.body.count).toBe(
      2 * perChild,
    );
    await store.close();
  });

  it('every write acknowledged before a kill -9 survives it', async () => {
    const path = join(tempDir(), 'bridge.db');
    const child = startChild('writer', path, 1_000_000);
    const acknowledged: number[] = [];
    child.lines.on('line', (line) => {
      if (!/^\d+$/.test(line)) return;
      acknowledged.push(Number(line));
      if (acknowledged.length === 500) child.child.kill('SIGKILL');
    });
    await child.ready;
    child.go();
    const [code, signal] = await child.exited;
    // Killed mid-stream, not finished or crashed on its own.
    expect({ code, signal, stderr: child.stderr() }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
    expect(acknowledged.length).toBeGreaterThanOrEqual(500);

    const raw = new Database(path);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const store = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
    for (const index of acknowledged) {
      const doc = await store.read(WRITER_CONTAINER, `p${index % 7}`, `doc-${index}`);
      expect(doc?.body).toEqual(writerBody(index));
    }
    expect(await store.count(WRITER_CONTAINER, {})).toBeGreaterThanOrEqual(acknowledged.length);
    await store.close();
  });

  it('a change-feed consumer polling while another process writes skips nothing', async () => {
    const path = join(tempDir(), 'bridge.db');
    const total = 3000;
    const consumer = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
    const child = startChild('writer', path, total);
    await child.ready;
    child.go();
    let running = true;
    void child.exited.then(() => (running = false));
    const seen: string[] = [];
    let continuation: string | undefined;
    const pull = async () => {
      const page = await consumer.changeFeed(WRITER_CONTAINER, { continuation, maxItems: 37 });
      seen.push(...page.items.map((item) => item.id));
      continuation = page.continuation;
      return page.items.length;
    };
    let pollsWhileWriting = 0;
    while (running) {
      if ((await pull()) > 0) pollsWhileWriting++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    while ((await pull()) > 0);
    expect(await child.exited).toEqual([0, null]);
    expect(pollsWhileWriting).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => `doc-${i}`));
    await consumer.close();
  });

  it('reports a write lock held past the 5 s busy timeout as throttled', async () => {
    const path = join(tempDir(), 'bridge.db');
    const store = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
    const blocker = new Database(path);
    blocker.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    await expectStoreError(store.upsert('c', 'p', { id: 'a', type: 't', body: {} }), 'throttled');
    // It waited for the lock rather than failing at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
    blocker.exec('COMMIT');
    await store.upsert('c', 'p', { id: 'a', type: 't', body: {} });
    blocker.close();
    await store.close();
  });
});
