import type Database from 'better-sqlite3';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
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

  constructor(
    private readonly db: Database.Database,
    private readonly mapError: (error: unknown) => unknown,
  ) {}

  run<R>(write: () => R): Promise<R> {
    if (!this.waiters) {
      const file = this.db.memory ? undefined : this.db.name;
      if (file !== undefined) {
        const peers = openGroups.get(file) ?? new Set<GroupCommit>();
        for (const peer of peers) peer.commit();
        peers.add(this);
        openGroups.set(file, peers);
      }
      this.db.exec('BEGIN IMMEDIATE');
      this.waiters = [];
      setImmediate(() => this.commit());
    }
    // db.transaction inside an open transaction is a savepoint: released on success, rolled back on throw.
    const result = this.db.transaction(write)();
    return new Promise<R>((resolve, reject) =>
      this.waiters?.push({ resolve: () => resolve(result), reject }),
    );
  }

  /** Commits the open group, if any, and settles its waiters. */
  commit(): void {
    const waiters = this.waiters;
    if (!waiters) return;
    this.waiters = undefined;
    if (!this.db.memory) openGroups.get(this.db.name)?.delete(this);
    try {
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
