/**
 * The embedded document store's schema, as ordered migrations (see ./sqlite-migrations.ts).
 *
 * Version 1 is the layout of the release before versioning: a WITHOUT ROWID table keyed by
 * (container, pk, id) holding each body in key order, a unique index on seq for the change feed, an
 * index by type, and an `etag` column that always held the hex seq.
 *
 * Version 2 keys each row by its seq (the commit position), so a write appends at the end of the
 * table instead of rewriting a page somewhere in the key order, and the change feed walks the
 * table itself. The (container, pk, id) lookup moves to a unique index of small entries, the seq
 * index goes (the key is the seq), the type index keeps (container, type) only (its entries end in
 * the seq, so new ones append instead of landing at random places), and the etag is derived from
 * the seq (as it always was).
 * Measured on a 2-core machine, this cut the SQLite time per sync (profile + event) by about half.
 */
import type Database from 'better-sqlite3';
import type { Migration } from './sqlite-migrations';

/** A document's etag: its seq in hex, quoted (Cosmos etags are quoted too). */
export function etagOf(seq: number): string {
  return `"${seq.toString(16)}"`;
}

const V1_PREVIOUS_RELEASE = `
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

const V2_ROWS_KEYED_BY_SEQ = `
  CREATE TABLE docs_v2 (
    seq INTEGER PRIMARY KEY,
    container TEXT NOT NULL,
    pk TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    ts INTEGER NOT NULL,
    expires_at INTEGER
  );
  INSERT INTO docs_v2 (seq, container, pk, id, type, body, ts, expires_at)
    SELECT seq, container, pk, id, type, body, ts, expires_at FROM docs ORDER BY seq;
  DROP TABLE docs;
  ALTER TABLE docs_v2 RENAME TO docs;
  CREATE UNIQUE INDEX docs_by_key ON docs (container, pk, id);
  CREATE INDEX docs_by_type ON docs (container, type);
  CREATE INDEX docs_by_expiry ON docs (expires_at) WHERE expires_at IS NOT NULL;
  -- The counter never falls below a seq in use (a file written by hand or by an older build).
  UPDATE seq_counter SET seq = max(seq, (SELECT coalesce(max(seq), 0) FROM docs)) WHERE k = 0;
`;

export const DOCUMENT_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'the unversioned layout of the previous release',
    up: (db: Database.Database) => db.exec(V1_PREVIOUS_RELEASE),
  },
  {
    version: 2,
    name: 'rows keyed by seq; etag derived from seq',
    up: (db: Database.Database) => db.exec(V2_ROWS_KEYED_BY_SEQ),
  },
];
