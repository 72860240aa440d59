/**
 * SqliteDocumentStore: the embedded DocumentStore on better-sqlite3, with Cosmos DB semantics
 * (etags, conditional writes, transactional batches inside a partition, TTL and a latest-version
 * change feed). One file may be shared by several processes: WAL mode, a busy timeout, and every
 * write in a BEGIN IMMEDIATE transaction so writers (and thus sequence numbers) are serialised.
 */
import Database from 'better-sqlite3';
import { databaseOpenFailure, preparePrivateDatabase } from './private-files';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../ports/clock';
import {
  checkBatchSize,
  checkId,
  checkLimit,
  checkPk,
  decodeQueryContinuation,
  DEFAULT_FEED_ITEMS,
  encodeQueryContinuation,
  FIELD_NAME,
  withOperationIndex,
} from '../document-rules';
import { GroupCommit, isSqliteError } from './group-commit';
import {
  bindCollection,
  StoreError,
  type BatchOperation,
  type BatchResult,
  type ChangeFeedPage,
  type DocumentCollection,
  type DocumentStore,
  type QueryFilter,
  type QueryPage,
  type StoredDocument,
  type WriteOptions,
} from '../../ports/document-store';

export interface SqliteDocumentStoreOptions {
  /** Database file path, or ':memory:'. */
  path: string;
  /** Source of `ts` and of TTL expiry; injectable so tests can move time. */
  clock?: Clock;
  /** 'normal': an acknowledged write survives a process crash; 'full': it also survives power loss. */
  durability?: 'normal' | 'full';
  /** How often expired documents are deleted, in ms; 0 turns the timer off. Default 60000. */
  purgeIntervalMs?: number;
}

export { MAX_BATCH_OPERATIONS } from '../document-rules';
// Cosmos DB rejects these characters in ids; rejecting them here keeps both stores alike.

interface DocRow {
  pk: string;
  id: string;
  type: string;
  body: string;
  etag: string;
  ts: number;
  expires_at: number | null;
  seq: number;
}

/** A validated operation, its body already serialised so no JSON work happens under the write lock. */
type PreparedOp =
  | {
      op: 'create' | 'upsert' | 'replace';
      id: string;
      type: string;
      json: string;
      ttlSeconds?: number;
      ifMatch?: string;
    }
  | { op: 'delete'; id: string; ifMatch?: string };

interface Applied {
  id: string;
  type?: string;
  json?: string;
  etag?: string;
  seq?: number;
  ts: number;
  expiresAt: number | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS docs (
    container TEXT NOT NULL,
    pk TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    etag TEXT NOT NULL,
    ts INTEGER NOT NULL,
    expires_at INTEGER,
    seq INTEGER NOT NULL,
    PRIMARY KEY (container, pk, id)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS docs_by_seq ON docs (container, seq);
  CREATE INDEX IF NOT EXISTS docs_by_type ON docs (container, type, pk, id);
  CREATE INDEX IF NOT EXISTS docs_by_expiry ON docs (expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS seq_counter (k INTEGER PRIMARY KEY CHECK (k = 0), seq INTEGER NOT NULL);
  INSERT OR IGNORE INTO seq_counter (k, seq) VALUES (0, 0);
`;

const COLUMNS = 'pk, id, type, body, etag, ts, expires_at, seq';
const LIVE = '(expires_at IS NULL OR expires_at > @now)';

export class SqliteDocumentStore implements DocumentStore {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly statements: ReturnType<typeof prepareStatements>;
  /** Writes of one event-loop turn share one commit; see GroupCommit. */
  private readonly group: GroupCommit;
  /** Query and count statements, one per filter shape (field values are bound, never inlined). */
  private readonly dynamic = new Map<string, Database.Statement>();
  /** Applies operations in one BEGIN IMMEDIATE transaction; all or nothing. */
  private readonly applyAll: (
    container: string,
    pk: string,
    ops: PreparedOp[],
    isBatch: boolean,
  ) => Applied[];

  constructor(options: SqliteDocumentStoreOptions) {
    if (options.path !== ':memory:') preparePrivateDatabase(options.path);
    this.clock = options.clock ?? systemClock;
    try {
      this.db = new Database(options.path);
    } catch (error) {
      throw databaseOpenFailure(options.path, error) ?? error;
    }
    try {
      // The busy timeout comes first: switching to WAL itself needs a lock another process may hold.
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.transaction(() => this.db.exec(SCHEMA)).immediate();
      this.statements = prepareStatements(this.db);
      this.group = new GroupCommit(this.db, toStoreError);
    } catch (error) {
      this.db.close();
      throw databaseOpenFailure(options.path, error) ?? toStoreError(error);
    }
    this.applyAll = this.db.transaction(
      (container: string, pk: string, ops: PreparedOp[], isBatch: boolean) => {
        // Read the clock under the write lock so `ts` follows commit order.
        const now = this.clock.now();
        return ops.map((op, index) => {
          try {
            return this.applyOne(container, pk, op, now);
          } catch (error) {
            throw isBatch ? withOperationIndex(error, index) : error;
          }
        });
      },
    ).immediate;

    const interval = options.purgeIntervalMs ?? 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => {
        try {
          this.purgeExpired();
        } catch {
          // Busy or closed: the next tick tries again, and readers never see expired docs anyway.
        }
      }, interval);
      this.timer.unref();
    }
  }

  async read<T>(container: string, pk: string, id: string): Promise<StoredDocument<T> | undefined> {
    return this.guard(() => {
      const row = this.statements.get.get(container, pk, id) as DocRow | undefined;
      return row && isLive(row, this.clock.now()) ? toDocument<T>(row) : undefined;
    });
  }

  async create<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    return this.grouped(() =>
      this.writeOne<T>(container, pk, { op: 'create', ...doc, ttlSeconds: options?.ttlSeconds }),
    );
  }

  async upsert<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    return this.grouped(() =>
      this.writeOne<T>(container, pk, {
        op: 'upsert',
        ...doc,
        ttlSeconds: options?.ttlSeconds,
        ifMatch: options?.ifMatch,
      }),
    );
  }

  async delete(container: string, pk: string, id: string, options?: { ifMatch?: string }): Promise<void> {
    await this.grouped(() => {
      const op = prepareOp({ op: 'delete', id, ifMatch: options?.ifMatch });
      this.applyAll(checkContainer(container), checkPk(pk), [op], false);
    });
  }

  async batch(container: string, pk: string, operations: BatchOperation[]): Promise<BatchResult[]> {
    return this.grouped(() => {
      checkBatchSize(operations);
      const prepared = operations.map((op, index) => {
        try {
          return prepareOp(op);
        } catch (error) {
          throw withOperationIndex(error, index);
        }
      });
      if (prepared.length === 0) return [];
      return this.applyAll(checkContainer(container), checkPk(pk), prepared, true).map((applied) =>
        applied.etag === undefined
          ? { id: applied.id, ts: applied.ts }
          : { id: applied.id, etag: applied.etag, seq: applied.seq, ts: applied.ts },
      );
    });
  }

  async query<T>(container: string, filter: QueryFilter): Promise<QueryPage<T>> {
    return this.guard(() => {
      const limit = checkLimit(filter.limit);
      const { where, params } = buildFilter(container, filter, this.clock.now());
      if (filter.continuation !== undefined) {
        const [afterPk, afterId] = decodeQueryContinuation(filter.continuation);
        where.push('(pk, id) > (@afterPk, @afterId)');
        Object.assign(params, { afterPk, afterId });
      }
      // One row more than asked tells whether another page exists, so the last page has no token.
      const sql = `SELECT ${COLUMNS} FROM docs WHERE ${where.join(' AND ')} ORDER BY pk, id LIMIT @take`;
      const rows = this.statement(sql).all({ ...params, take: limit + 1 }) as DocRow[];
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((row) => toDocument<T>(row)),
        continuation: rows.length > limit && last ? encodeQueryContinuation(last.pk, last.id) : undefined,
      };
    });
  }

  async count(container: string, filter: Omit<QueryFilter, 'limit' | 'continuation'>): Promise<number> {
    return this.guard(() => {
      const { where, params } = buildFilter(container, filter, this.clock.now());
      const sql = `SELECT count(*) FROM docs WHERE ${where.join(' AND ')}`;
      return this.statement(sql).pluck().get(params) as number;
    });
  }

  async changeFeed(
    container: string,
    options: { continuation?: string; maxItems?: number; types?: readonly string[] },
  ): Promise<ChangeFeedPage> {
    return this.guard(() => {
      const after = decodeFeedContinuation(options.continuation);
      const maxItems = options.maxItems ?? DEFAULT_FEED_ITEMS;
      if (!Number.isInteger(maxItems) || maxItems < 1) {
        throw new StoreError('invalid', 'maxItems must be a positive integer');
      }
      // A row's seq is its latest write, and writers commit in seq order (one writer at a time), so
      // everything at or below the highest seq a reader sees is already visible: paging by seq never
      // skips an item.
      const params = { container: checkContainer(container), after, now: this.clock.now(), maxItems };
      const types = options.types ?? [];
      // A type filter scans the same seq order and skips other kinds (no extra index to maintain on writes).
      const rows = (
        types.length === 0
          ? this.statements.feed.all(params)
          : this.statement(
              `SELECT ${COLUMNS} FROM docs WHERE container = @container AND seq > @after AND ${LIVE}
               AND type IN (${types.map((_, i) => `@t${i}`).join(', ')}) ORDER BY seq LIMIT @maxItems`,
            ).all({ ...params, ...Object.fromEntries(types.map((t, i) => [`t${i}`, t])) })
      ) as DocRow[];
      const last = rows[rows.length - 1];
      return {
        items: rows.map((row) => toDocument(row)),
        continuation: String(last ? last.seq : after),
      };
    });
  }

  /** Deletes expired documents (they are already invisible); returns how many. */
  purgeExpired(): number {
    return this.guard(() => this.statements.purge.run(this.clock.now()).changes);
  }

  collection(name: string): DocumentCollection {
    return bindCollection(this, name);
  }

  async ping(): Promise<void> {
    this.guard(() => this.statements.ping.get());
  }

  /** Runs a write in the current commit group; resolves after the group's COMMIT. */
  private grouped<R>(write: () => R): Promise<R> {
    return this.guard(() => this.group.run(write));
  }

  async close(): Promise<void> {
    if (this.db.open) this.group.commit();
    if (this.timer) clearInterval(this.timer);
    if (this.db.open) this.db.close();
  }

  private writeOne<T>(container: string, pk: string, op: BatchOperation): StoredDocument<T> {
    return this.guard(() => {
      const [applied] = this.applyAll(checkContainer(container), checkPk(pk), [prepareOp(op)], false);
      if (!applied?.etag || applied.json === undefined || applied.type === undefined) {
        throw new Error('write produced no document');
      }
      const doc: StoredDocument<T> = {
        id: applied.id,
        pk,
        type: applied.type,
        body: JSON.parse(applied.json) as T,
        etag: applied.etag,
        ts: applied.ts,
      };
      if (applied.seq !== undefined) doc.seq = applied.seq;
      if (applied.expiresAt !== null) doc.expiresAt = applied.expiresAt;
      return doc;
    });
  }

  /** One operation inside the open write transaction; an expired row counts as absent. */
  private applyOne(container: string, pk: string, op: PreparedOp, now: number): Applied {
    const row = this.statements.get.get(container, pk, op.id) as DocRow | undefined;
    const current = row && isLive(row, now) ? row : undefined;
    if (op.op === 'create' && current) {
      throw new StoreError('conflict', `document ${op.id} already exists`);
    }
    if ((op.op === 'replace' || op.op === 'delete') && !current) {
      throw new StoreError('not-found', `document ${op.id} does not exist`);
    }
    if (op.op !== 'create' && op.ifMatch !== undefined && current?.etag !== op.ifMatch) {
      throw new StoreError('precondition-failed', `document ${op.id} does not have etag ${op.ifMatch}`);
    }
    if (op.op === 'delete') {
      this.statements.remove.run(container, pk, op.id);
      return { id: op.id, ts: now, expiresAt: null };
    }
    const seq = this.statements.nextSeq.get() as number;
    const etag = `"${seq.toString(16)}"`;
    const expiresAt = op.ttlSeconds === undefined ? null : now + op.ttlSeconds * 1000;
    this.statements.put.run(container, pk, op.id, op.type, op.json, etag, now, expiresAt, seq);
    return { id: op.id, type: op.type, json: op.json, etag, seq, ts: now, expiresAt };
  }

  private statement(sql: string): Database.Statement {
    let statement = this.dynamic.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.dynamic.set(sql, statement);
    }
    return statement;
  }

  /** Runs fn, turning SQLite failures into StoreErrors so callers never see driver errors. */
  private guard<R>(fn: () => R): R {
    if (!this.db.open) throw new StoreError('unavailable', 'the document store is closed');
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/** Opens (creating if needed) the store file `<dataDir>/bridge.db`. */
export function openSqliteDocumentStore(
  dataDir: string,
  options: Omit<SqliteDocumentStoreOptions, 'path'> = {},
): SqliteDocumentStore {
  return new SqliteDocumentStore({ ...options, path: join(dataDir, 'bridge.db') });
}

function prepareStatements(db: Database.Database) {
  return {
    get: db.prepare(`SELECT ${COLUMNS} FROM docs WHERE container = ? AND pk = ? AND id = ?`),
    nextSeq: db.prepare('UPDATE seq_counter SET seq = seq + 1 WHERE k = 0 RETURNING seq').pluck(),
    put: db.prepare(
      `INSERT INTO docs (container, pk, id, type, body, etag, ts, expires_at, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (container, pk, id) DO UPDATE SET type = excluded.type, body = excluded.body,
         etag = excluded.etag, ts = excluded.ts, expires_at = excluded.expires_at, seq = excluded.seq`,
    ),
    remove: db.prepare('DELETE FROM docs WHERE container = ? AND pk = ? AND id = ?'),
    feed: db.prepare(
      `SELECT ${COLUMNS} FROM docs WHERE container = @container AND seq > @after AND ${LIVE}
       ORDER BY seq LIMIT @maxItems`,
    ),
    purge: db.prepare('DELETE FROM docs WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    ping: db.prepare('SELECT 1'),
  };
}

function prepareOp(op: BatchOperation): PreparedOp {
  checkId(op.id);
  const ifMatch = op.op === 'create' ? undefined : op.ifMatch;
  if (ifMatch !== undefined && typeof ifMatch !== 'string') {
    throw new StoreError('invalid', 'ifMatch must be a string');
  }
  if (op.op === 'delete') return { op: 'delete', id: op.id, ifMatch: op.ifMatch };
  if (typeof op.type !== 'string' || op.type === '') {
    throw new StoreError('invalid', 'type must be a non-empty string');
  }
  if (op.ttlSeconds !== undefined && (!Number.isInteger(op.ttlSeconds) || op.ttlSeconds < 1)) {
    throw new StoreError('invalid', 'ttlSeconds must be a positive integer');
  }
  return {
    op: op.op,
    id: op.id,
    type: op.type,
    json: serialise(op.body),
    ttlSeconds: op.ttlSeconds,
    ifMatch,
  };
}

function serialise(body: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (error) {
    throw new StoreError('invalid', `body is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (json === undefined) throw new StoreError('invalid', 'body is not JSON-serialisable');
  return json;
}

function checkContainer(container: unknown): string {
  if (typeof container !== 'string' || container === '') {
    throw new StoreError('invalid', 'container must be a non-empty string');
  }
  return container;
}

/** WHERE clauses and bound parameters shared by query and count. */
function buildFilter(
  container: string,
  filter: Omit<QueryFilter, 'limit' | 'continuation'>,
  now: number,
): { where: string[]; params: Record<string, string | number> } {
  const where = ['container = @container', LIVE];
  const params: Record<string, string | number> = { container: checkContainer(container), now };
  if (filter.type !== undefined) {
    where.push('type = @type');
    params.type = filter.type;
  }
  if (filter.pk !== undefined) {
    where.push('pk = @pk');
    params.pk = filter.pk;
  }
  if (filter.idPrefix !== undefined) {
    // A range start the index can use, then an exact prefix test: no LIKE, so no wildcards to escape.
    where.push('id >= @idPrefix AND substr(id, 1, length(@idPrefix)) = @idPrefix');
    params.idPrefix = filter.idPrefix;
  }
  Object.entries(filter.where ?? {}).forEach(([field, value], index) => {
    if (!FIELD_NAME.test(field))
      throw new StoreError('invalid', `where: bad field name ${JSON.stringify(field)}`);
    const path = `w${index}`;
    params[path] = `$."${field}"`;
    // Type-strict like Cosmos: 1 matches neither "1" nor true.
    if (typeof value === 'boolean') {
      where.push(`json_type(body, @${path}) = '${value ? 'true' : 'false'}'`);
    } else if (typeof value === 'string') {
      where.push(`json_type(body, @${path}) = 'text' AND json_extract(body, @${path}) = @${path}v`);
      params[`${path}v`] = value;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      where.push(
        `json_type(body, @${path}) IN ('integer', 'real') AND json_extract(body, @${path}) = @${path}v`,
      );
      params[`${path}v`] = value;
    } else {
      throw new StoreError('invalid', `where.${field} must be a string, a finite number or a boolean`);
    }
  });
  return { where, params };
}

function decodeFeedContinuation(token: string | undefined): number {
  if (token === undefined) return 0;
  if (!/^\d{1,15}$/.test(token)) throw new StoreError('invalid', 'malformed change feed continuation');
  return Number(token);
}

function isLive(row: DocRow, now: number): boolean {
  return row.expires_at === null || row.expires_at > now;
}

function toDocument<T>(row: DocRow): StoredDocument<T> {
  const doc: StoredDocument<T> = {
    id: row.id,
    pk: row.pk,
    type: row.type,
    body: JSON.parse(row.body) as T,
    etag: row.etag,
    ts: row.ts,
    seq: row.seq,
  };
  if (row.expires_at !== null) doc.expiresAt = row.expires_at;
  return doc;
}

function toStoreError(error: unknown): unknown {
  if (!isSqliteError(error)) return error;
  if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
    return new StoreError('throttled', `database is busy: ${error.message}`, 100);
  }
  if (/^SQLITE_(IOERR|FULL|CANTOPEN|READONLY|CORRUPT|NOTADB|PERM)/.test(error.code)) {
    return new StoreError('unavailable', `${error.code}: ${error.message}`);
  }
  return error;
}
