import type Database from 'better-sqlite3';

/**
 * Ordered schema migrations for the embedded SQLite files, versioned with `PRAGMA user_version`.
 *
 * Version 1 of every file is the schema of the release before versioning existed, written with
 * `IF NOT EXISTS`, so a new file and a file of that release (user_version 0, tables present) take
 * the same first step. The missing steps run once, in order, in one BEGIN IMMEDIATE transaction that
 * also records the new version: an upgrade applies completely or not at all (a crash mid-upgrade
 * leaves the file as it was, and the next start runs it again), and concurrent openers serialise on
 * the write lock, the second finding nothing left to do. A file written by a newer release is refused, naming both
 * versions, rather than read with the wrong layout.
 */
export interface Migration {
  version: number;
  /** What the step does, for errors and logs. */
  name: string;
  up(db: Database.Database): void;
}

export class SchemaVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaVersionError';
  }
}

/** Runs the migrations the file has not had yet; returns the version it is at afterwards. */
export function migrate(db: Database.Database, what: string, migrations: readonly Migration[]): number {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new TypeError(`${what}: migrations must be numbered 1, 2, 3 … in order`);
    }
  });
  const latest = migrations.length;
  const current = () => db.pragma('user_version', { simple: true }) as number;
  // Most opens find the file current: check without taking the write lock first.
  if (current() === latest) return latest;
  return db
    .transaction(() => {
      const from = current();
      if (from > latest) {
        throw new SchemaVersionError(
          `${what} has schema version ${from}, written by a newer release; this release reads up to version ${latest}. ` +
            'Run the newer release, or restore a backup of the data directory made by this one.',
        );
      }
      for (const migration of migrations.slice(from)) {
        migration.up(db);
        db.pragma(`user_version = ${migration.version}`);
      }
      return latest;
    })
    .immediate();
}

/** The schema version a file is at (0: never versioned). */
export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}
