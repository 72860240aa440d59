/**
 * SqliteDocumentStore: the embedded DocumentStore on better-sqlite3, with Cosmos DB semantics
 * (etags, conditional writes, transactional batches inside a partition, TTL and a latest-version
 * change feed). One file may be shared by several processes: WAL mode, a busy timeout, and every
 * write in a BEGIN IMMEDIATE transaction so writers (and thus sequence numbers) are serialised.
 *
 * Layout (schema version 2, ./sqlite-document-schema.ts): a document's row is keyed by its `seq`,
 * its commit position, so every write appends at the end of the table (a rewrite moves the row),
 * the change feed is a walk in key order, and the etag is derived from the seq. Sequence numbers
 * are handed out in memory inside a commit group and the counter is written once per group.
 */
import Database from 'better-sqlite3';
import { databaseOpenFailure, preparePrivateDatabase } from './private-files';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../ports/clock';
import {
  checkContainer,
  checkFeedItems,
  checkLimit,
  checkPk,
  decodeQueryContinuation,
  encodeQueryContinuation,
  FIELD_NAME,
  prepareBatch,
  prepareOperation,
  prepareWrite,
  withOperationIndex,
  type PreparedOperation,
} from '../document-rules';
import { GroupCommit, isSqliteError } from './group-commit';
import { migrate } from './sqlite-migrations';
import { DOCUMENT_STORE_MIGRATIONS, etagOf } from './sqlite-document-schema';
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

interface DocRow {
  seq: number;
  pk: string;
  id: string;
  type: string;
  body: string;
  ts: number;
  expires_at: number | null;
}

/** The current row of a key, as a write sees it. */
type CurrentRow = Pick<DocRow, 'seq' | 'expires_at'>;

interface Applied {
  id: string;
  type?: string;
  json?: string;
  seq?: number;
  ts: number;
  expiresAt: number | null;
}

const COLUMNS = 'seq, pk, id, type, body, ts, expires_at';
const LIVE = '(expires_at IS NULL OR expires_at > @now)';
/** Expired rows deleted per step of a purge; steps yield to the event loop in between. */
const PURGE_CHUNK = 1000;
/** ~40 MB of WAL between checkpoints: hot pages (the table's tail) are copied once per checkpoint. */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export class SqliteDocumentStore implements DocumentStore {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly statements: ReturnType<typeof prepareStatements>;
  /** Writes of one event-loop turn share one commit; see GroupCommit. */
  private readonly group: GroupCommit;
  /** Query and count statements, one per filter shape (field values are bound, never inlined). */
  private readonly dynamic = new Map<string, Database.Statement>();
  /**
   * The last sequence number handed out. Read from the counter row when a group begins (another
   * process may have moved it) and never lowered, so a seq once seen by a reader is never reused,
   * even when a commit fails.
   */
  private lastSeq = 0;
  private persistedSeq = 0;
  private purging = false;

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
      this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      // Sort and temporary tables in memory, not in temporary files.
      this.db.pragma('temp_store = MEMORY');
      migrate(this.db, `the document store ${options.path}`, DOCUMENT_STORE_MIGRATIONS);
      this.statements = prepareStatements(this.db);
      this.group = new GroupCommit(this.db, toStoreError, {
        begin: () => {
          const stored = this.statements.readSeq.get() as number;
          this.lastSeq = Math.max(this.lastSeq, stored);
          this.persistedSeq = stored;
        },
        beforeCommit: () => {
          if (this.lastSeq !== this.persistedSeq) this.statements.writeSeq.run(this.lastSeq);
        },
      });
    } catch (error) {
      this.db.close();
      throw databaseOpenFailure(options.path, error) ?? toStoreError(error);
    }

    const interval = options.purgeIntervalMs ?? 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => this.purgeInSteps(), interval);
      this.timer.unref();
    }
  }

  async read<T>(container: string, pk: string, id: string): Promise<StoredDocument<T> | undefined> {
    return this.guard(() => {
      const row = this.statements.get.get(container, pk, id) as DocRow | undefined;
      return row && isLive(row.expires_at, this.clock.now()) ? toDocument<T>(row, pk, id) : undefined;
    });
  }

  async create<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    const op = this.guard(() => prepareWrite({ op: 'create', ...doc, ttlSeconds: options?.ttlSeconds }));
    return this.written(() => this.writeOne<T>(checkContainer(container), checkPk(pk), op));
  }

  async upsert<T>(
    container: string,
    pk: string,
    doc: { id: string; type: string; body: T },
    options?: WriteOptions,
  ): Promise<StoredDocument<T>> {
    const op = this.guard(() =>
      prepareWrite({ op: 'upsert', ...doc, ttlSeconds: options?.ttlSeconds, ifMatch: options?.ifMatch }),
    );
    return this.written(() => this.writeOne<T>(checkContainer(container), checkPk(pk), op));
  }

  async delete(container: string, pk: string, id: string, options?: { ifMatch?: string }): Promise<void> {
    const op = this.guard(() => prepareOperation({ op: 'delete', id, ifMatch: options?.ifMatch }));
    await this.written(() => {
      const c = checkContainer(container);
      const p = checkPk(pk);
      const now = this.clock.now();
      this.apply(c, p, [this.check(c, p, op, now, new Map())], now);
    });
  }

  async batch(container: string, pk: string, operations: BatchOperation[]): Promise<BatchResult[]> {
    const prepared = this.guard(() => prepareBatch(operations));
    if (prepared.length === 0) return [];
    return this.written(() => {
      const c = checkContainer(container);
      const p = checkPk(pk);
      // Read the clock under the write lock so `ts` follows commit order.
      const now = this.clock.now();
      // Every operation is checked first, against the stored rows and the batch's own earlier
      // operations; only then is anything written, so a batch applies completely or not at all
      // without a savepoint (and its statement journal) per batch.
      const planned = new Map<string, CurrentRow | undefined>();
      const checked = prepared.map((op, index) => {
        try {
          return this.check(c, p, op, now, planned);
        } catch (error) {
          throw withOperationIndex(error, index);
        }
      });
      return this.apply(c, p, checked, now).map((applied): BatchResult =>
        applied.seq === undefined
          ? { id: applied.id, ts: applied.ts }
          : { id: applied.id, etag: etagOf(applied.seq), seq: applied.seq, ts: applied.ts },
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
      // Pages come in (pk, id) order: walk the key index in that order (checking the type as it goes)
      // rather than letting the planner take the type index and sort everything of that type per page.
      const sql = `SELECT ${COLUMNS} FROM docs INDEXED BY docs_by_key WHERE ${where.join(' AND ')}
                   ORDER BY pk, id LIMIT @take`;
      const rows = this.statement(sql).all({ ...params, take: limit + 1 }) as DocRow[];
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((row) => toDocument<T>(row, row.pk, row.id)),
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
      const maxItems = checkFeedItems(options.maxItems);
      // A row's seq is its latest write, and writers commit in seq order (one writer at a time), so
      // everything at or below the highest seq a reader sees is already visible: paging by seq never
      // skips an item.
      const params = { container: checkContainer(container), after, now: this.clock.now(), maxItems };
      const types = options.types ?? [];
      const rows = this.statement(changeFeedSql(types.length)).all({
        ...params,
        ...Object.fromEntries(types.map((t, i) => [`t${i}`, t])),
      }) as DocRow[];
      const last = rows[rows.length - 1];
      return {
        items: rows.map((row) => toDocument(row, row.pk, row.id)),
        continuation: String(last ? last.seq : after),
      };
    });
  }

  /** Deletes expired documents (they are already invisible), up to `limit`; returns how many. */
  purgeExpired(limit = Number.MAX_SAFE_INTEGER): number {
    return this.guard(() => {
      let purged = 0;
      while (purged < limit) {
        const changes = this.statements.purge.run(this.clock.now()).changes;
        purged += changes;
        if (changes < PURGE_CHUNK) break;
      }
      return purged;
    });
  }

  /** The timer's purge: one chunk per event-loop turn, so a large expiry never stalls requests. */
  private purgeInSteps(): void {
    if (this.purging) return;
    this.purging = true;
    const step = () => {
      let more = false;
      try {
        more = this.db.open && this.purgeExpired(PURGE_CHUNK) >= PURGE_CHUNK;
      } catch {
        // Busy or closed: the next tick tries again, and readers never see expired docs anyway.
      }
      if (more) setImmediate(step);
      else this.purging = false;
    };
    step();
  }

  collection(name: string): DocumentCollection {
    return bindCollection(this, name);
  }

  async ping(): Promise<void> {
    this.guard(() => this.statements.ping.get());
  }

  /**
   * Runs a write in the current commit group; resolves after the group's COMMIT. The write checks
   * everything before its first statement (see `check`), so only SQLite itself can fail it midway,
   * and then the whole group rolls back (GroupCommit.runChecked).
   */
  private written<R>(write: () => R): Promise<R> {
    return this.guard(() => this.group.runChecked(write));
  }

  async close(): Promise<void> {
    if (this.db.open) this.group.commit();
    if (this.timer) clearInterval(this.timer);
    if (this.db.open) this.db.close();
  }

  private writeOne<T>(container: string, pk: string, op: PreparedOperation): StoredDocument<T> {
    const now = this.clock.now();
    const [applied] = this.apply(container, pk, [this.check(container, pk, op, now, new Map())], now);
    if (applied?.seq === undefined || applied.json === undefined || applied.type === undefined) {
      throw new Error('write produced no document');
    }
    const doc: StoredDocument<T> = {
      id: applied.id,
      pk,
      type: applied.type,
      body: JSON.parse(applied.json) as T,
      etag: etagOf(applied.seq),
      ts: applied.ts,
      seq: applied.seq,
    };
    if (applied.expiresAt !== null) doc.expiresAt = applied.expiresAt;
    return doc;
  }

  /**
   * Checks one operation against the key's current row (an expired row counts as absent), or what
   * an earlier operation of the same batch left there (`planned`, which it then updates); writes
   * nothing. Returns the row the operation replaces or deletes.
   */
  private check(
    container: string,
    pk: string,
    op: PreparedOperation,
    now: number,
    planned: Map<string, CurrentRow | undefined>,
  ): { op: PreparedOperation; current: CurrentRow | undefined } {
    let current: CurrentRow | undefined;
    if (planned.has(op.id)) current = planned.get(op.id);
    else {
      const row = this.statements.current.get(container, pk, op.id) as CurrentRow | undefined;
      current = row && isLive(row.expires_at, now) ? row : undefined;
    }
    if (op.op === 'create' && current) {
      throw new StoreError('conflict', `document ${op.id} already exists`);
    }
    if ((op.op === 'replace' || op.op === 'delete') && !current) {
      throw new StoreError('not-found', `document ${op.id} does not exist`);
    }
    if (op.ifMatch !== undefined && (current === undefined || etagOf(current.seq) !== op.ifMatch)) {
      throw new StoreError('precondition-failed', `document ${op.id} does not have etag ${op.ifMatch}`);
    }
    // A later operation on the same key sees this one: deleted, or a write with an etag nobody holds yet.
    planned.set(op.id, op.op === 'delete' ? undefined : { seq: Number.NaN, expires_at: null });
    return { op, current };
  }

  /** Writes checked operations (the write lock is held, inside a group: see `lastSeq`). */
  private apply(
    container: string,
    pk: string,
    checked: { op: PreparedOperation; current: CurrentRow | undefined }[],
    now: number,
  ): Applied[] {
    return checked.map(({ op }): Applied => {
      if (op.op === 'delete') {
        this.statements.remove.run(container, pk, op.id);
        return { id: op.id, ts: now, expiresAt: null };
      }
      const seq = ++this.lastSeq;
      const expiresAt = op.ttlSeconds === undefined ? null : now + op.ttlSeconds * 1000;
      // The key is unique: REPLACE drops the row's previous version (expired or not) in the same step.
      this.statements.put.run(seq, container, pk, op.id, op.type, op.json, now, expiresAt);
      return { id: op.id, type: op.type, json: op.json, seq, ts: now, expiresAt };
    });
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
    current: db.prepare('SELECT seq, expires_at FROM docs WHERE container = ? AND pk = ? AND id = ?'),
    readSeq: db.prepare('SELECT seq FROM seq_counter WHERE k = 0').pluck(),
    writeSeq: db.prepare('UPDATE seq_counter SET seq = ? WHERE k = 0'),
    put: db.prepare(
      `INSERT OR REPLACE INTO docs (seq, container, pk, id, type, body, ts, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    remove: db.prepare('DELETE FROM docs WHERE container = ? AND pk = ? AND id = ?'),
    purge: db.prepare(
      `DELETE FROM docs WHERE seq IN
         (SELECT seq FROM docs WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ${PURGE_CHUNK})`,
    ),
    ping: db.prepare('SELECT 1'),
  };
}

/**
 * The change feed's query: a walk of the table in key (= seq) order from the continuation. NOT
 * INDEXED keeps the planner from taking the type or key index for the equality constraints and then
 * sorting every matching row by seq (a cost growing with the table); a type filter skips other
 * kinds during the walk (no extra index to maintain on every write).
 */
export function changeFeedSql(typeCount: number): string {
  const typeFilter =
    typeCount === 0
      ? ''
      : ` AND type IN (${Array.from({ length: typeCount }, (_, i) => `@t${i}`).join(', ')})`;
  return `SELECT ${COLUMNS} FROM docs NOT INDEXED WHERE seq > @after AND container = @container AND ${LIVE}${typeFilter}
          ORDER BY seq LIMIT @maxItems`;
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

function isLive(expiresAt: number | null, now: number): boolean {
  return expiresAt === null || expiresAt > now;
}

function toDocument<T>(row: DocRow, pk: string, id: string): StoredDocument<T> {
  const doc: StoredDocument<T> = {
    id,
    pk,
    type: row.type,
    body: JSON.parse(row.body) as T,
    etag: etagOf(row.seq),
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
