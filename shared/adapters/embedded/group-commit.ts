import type Database from 'better-sqlite3';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** What an adapter does at the edges of a group, inside its transaction. */
export interface GroupHooks {
  /** Right after BEGIN IMMEDIATE (the write lock is held): e.g. read counters other processes move. */
  begin?(): void;
  /** Right before COMMIT: e.g. write back counters kept in memory during the group. */
  beforeCommit?(): void;
}

/**
 * Group commit for a better-sqlite3 connection: every write issued during one event-loop turn runs
 * in a shared BEGIN IMMEDIATE transaction, each inside its own savepoint (a failing write rolls back
 * alone), and one COMMIT at the end of the turn makes them all durable. Each caller's promise
 * resolves only after that COMMIT, so nothing is acknowledged before it is on disk; if the COMMIT
 * fails, every write of the group is rejected.
 *
 * The commit cost (the WAL write, and with synchronous=FULL the fsync) is paid once per turn
 * instead of once per write. Reads on the same connection see the group's writes before the
 * commit; a reader could observe a write whose commit then fails (disk full, I/O error).
 */
/**
 * Open groups per database file in this process. Two connections to one file in one process would
 * deadlock: the second would wait (synchronously) for a write lock the first only releases at the
 * end of the turn. So opening a group first commits any other open group on the same file.
 */
const openGroups = new Map<string, Set<GroupCommit>>();

export class GroupCommit {
  private waiters: Waiter[] | undefined;
  /** Set when a write failed midway: the group cannot commit, only roll back. */
  private failure: { error: unknown } | undefined;
  /**
   * Runs a write in a savepoint of the open transaction (released on success, rolled back on a
   * throw). Made once: better-sqlite3 builds several closures per `transaction()` call.
   */
  private readonly inSavepoint: <R>(write: () => R) => R;

  constructor(
    private readonly db: Database.Database,
    private readonly mapError: (error: unknown) => unknown,
    private readonly hooks: GroupHooks = {},
  ) {
    this.inSavepoint = db.transaction(<R>(write: () => R): R => write()) as <R>(write: () => R) => R;
  }

  /** Whether a group is open (its writes are not committed yet). */
  get open(): boolean {
    return this.waiters !== undefined;
  }

  /** A write in its own savepoint of the group: it applies completely or not at all. */
  run<R>(write: () => R): Promise<R> {
    this.ensureOpen();
    const result = this.inSavepoint(write);
    return this.settled(result);
  }

  /**
   * A write of at most one modifying statement, without a savepoint: SQLite undoes a failing
   * statement by itself, so the savepoint's two extra statements would buy nothing.
   */
  runStatement<R>(write: () => R): Promise<R> {
    this.ensureOpen();
    const result = write();
    return this.settled(result);
  }

  /**
   * A write that checks everything it can fail on before its first statement (so a logical error
   * leaves nothing behind) and needs no savepoint. If SQLite itself fails it midway (disk full, I/O
   * error), its earlier statements cannot be undone alone: the whole group rolls back and every
   * write of the group is rejected, as when a COMMIT fails.
   */
  runChecked<R>(write: () => R): Promise<R> {
    this.ensureOpen();
    let result: R;
    try {
      result = write();
    } catch (error) {
      if (isSqliteError(error)) this.failure ??= { error };
      throw error;
    }
    return this.settled(result);
  }

  private settled<R>(result: R): Promise<R> {
    return new Promise<R>((resolve, reject) =>
      this.waiters?.push({ resolve: () => resolve(result), reject }),
    );
  }

  private ensureOpen(): void {
    if (this.waiters) return;
    const file = this.db.memory ? undefined : this.db.name;
    const peers = file === undefined ? undefined : (openGroups.get(file) ?? new Set<GroupCommit>());
    if (peers) for (const peer of peers) peer.commit();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.hooks.begin?.();
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
    if (peers && file !== undefined) {
      peers.add(this);
      openGroups.set(file, peers);
    }
    this.waiters = [];
    setImmediate(() => this.commit());
  }

  /** Commits the open group, if any, and settles its waiters. */
  commit(): void {
    const waiters = this.waiters;
    if (!waiters) return;
    this.waiters = undefined;
    if (!this.db.memory) openGroups.get(this.db.name)?.delete(this);
    const failure = this.failure;
    this.failure = undefined;
    try {
      if (failure) throw failure.error;
      this.hooks.beforeCommit?.();
      this.db.exec('COMMIT');
    } catch (error) {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // The connection already rolled back; nothing more to undo.
      }
      const mapped = this.mapError(error);
      for (const w of waiters) w.reject(mapped);
      return;
    }
    for (const w of waiters) w.resolve();
  }
}

/**
 * better-sqlite3's error, recognised by shape alone: the native addon keeps the error class of the
 * first context that loaded it, so where modules are re-evaluated (test runners' per-file contexts)
 * neither `instanceof SqliteError` nor `instanceof Error` holds for its errors.
 */
export function isSqliteError(error: unknown): error is Error & { code: string } {
  const e = error as { name?: unknown; code?: unknown } | null;
  return typeof e === 'object' && e !== null && e.name === 'SqliteError' && typeof e.code === 'string';
}
