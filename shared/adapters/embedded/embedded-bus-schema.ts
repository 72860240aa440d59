/**
 * The embedded bus's SQLite schema and prepared statements (private to embedded-bus.ts).
 *
 * Each entity has its own tables, keyed by sequence number, so that a message costs one b-tree
 * (no secondary index) and rowid order is enqueue order:
 * - `entities`: one row per queue, topic and subscription path; `last_seq` is the sequence counter
 *   of a queue or topic (a subscription's copies carry their topic's sequence number, as on Service
 *   Bus, so a subscription's numbers increase but may have gaps).
 * - `messages_<id>` (queues, subscriptions): the active messages. `visible_at` is the earliest time
 *   a receiver may take one: its scheduled time, an abandon's retry time, or the end of its
 *   peek-lock (`lock_token` is set while locked; the lock holds while `visible_at > now`).
 * - `dead_letters_<id>` (queues, subscriptions): the dead-letter sub-queue.
 * - `seen_ids_<id>` (queues, topics): duplicate detection history, in buckets one window wide, so
 *   that a lookup reads the current and the previous bucket and forgetting drops whole buckets
 *   (no time index to maintain on every send).
 *
 * Statements avoid what is slow in this SQLite build: bound LIMITs (re-prepared on every run under
 * STAT4), `IN (…)` lists and UPDATE … RETURNING (both go through temporary tables).
 */
import type Database from 'better-sqlite3';
import type { Migration } from './sqlite-migrations';

/**
 * The versioned part of bus.db (see ./sqlite-migrations.ts): version 1 is the layout of the release
 * before versioning. The per-entity tables below are created on open for the entities of the
 * topology in use (IF NOT EXISTS); tables of entities a topology no longer names are left as they are.
 */
export const BUS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'the unversioned layout of the previous release',
    up: (db) =>
      db.exec(`
        CREATE TABLE IF NOT EXISTS entities (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          last_seq INTEGER NOT NULL DEFAULT 0
        );
      `),
  },
];

/** Forgotten duplicate-detection ids per send, while old buckets remain. */
export const FORGET_CHUNK = 1000;

/** Receive statements are prepared per maxMessages value; hosts use a handful of values. */
const MAX_CACHED_LIMITS = 64;

const MESSAGE_COLUMNS =
  'seq, message_id, body, subject, content_type, correlation_id, props, enqueued_at, delivery_count';

export function receivableSchema(id: number): string {
  return `
    CREATE TABLE IF NOT EXISTS messages_${id} (
      seq INTEGER PRIMARY KEY,
      message_id TEXT NOT NULL,
      body TEXT NOT NULL,
      subject TEXT,
      content_type TEXT,
      correlation_id TEXT,
      props TEXT,
      enqueued_at INTEGER NOT NULL,
      visible_at INTEGER NOT NULL,
      delivery_count INTEGER NOT NULL DEFAULT 0,
      lock_token TEXT
    );
    CREATE TABLE IF NOT EXISTS dead_letters_${id} (
      seq INTEGER PRIMARY KEY,
      message_id TEXT NOT NULL,
      body TEXT NOT NULL,
      subject TEXT,
      content_type TEXT,
      correlation_id TEXT,
      props TEXT,
      enqueued_at INTEGER NOT NULL,
      delivery_count INTEGER NOT NULL,
      reason TEXT NOT NULL,
      description TEXT NOT NULL,
      dead_lettered_at INTEGER NOT NULL
    );
  `;
}

export function sendableSchema(id: number): string {
  return `
    CREATE TABLE IF NOT EXISTS seen_ids_${id} (
      bucket INTEGER NOT NULL,
      message_id TEXT NOT NULL,
      seen_at INTEGER NOT NULL,
      PRIMARY KEY (bucket, message_id)
    ) WITHOUT ROWID;
  `;
}

/** The columns a received or peeked message is built from. */
export interface MessageRow {
  seq: number;
  message_id: string;
  body: string;
  subject: string | null;
  content_type: string | null;
  correlation_id: string | null;
  props: string | null;
  enqueued_at: number;
  delivery_count: number;
}

export interface DeadLetterRow extends MessageRow {
  reason: string;
  description: string;
  dead_lettered_at: number;
}

export function prepareShared(db: Database.Database) {
  return {
    addEntity: db.prepare('INSERT OR IGNORE INTO entities (path) VALUES (?)'),
    entityId: db.prepare('SELECT id FROM entities WHERE path = ?').pluck(),
    /** Reserves `count` sequence numbers of a queue or topic (then `lastSeq` reads the last one). */
    reserveSeq: db.prepare('UPDATE entities SET last_seq = last_seq + ? WHERE id = ?'),
    // Cheaper than UPDATE … RETURNING, which goes through a temporary table.
    lastSeq: db.prepare('SELECT last_seq FROM entities WHERE id = ?').pluck(),
  };
}

/** Duplicate detection statements of a queue or topic. */
export function prepareSendable(db: Database.Database, id: number) {
  const table = `seen_ids_${id}`;
  return {
    /** 1 when the id was seen after `cutoff` in that bucket (one seek; `bucket IN (…)` costs more). */
    seen: db.prepare(`SELECT 1 FROM ${table} WHERE bucket = ? AND message_id = ? AND seen_at > ?`).pluck(),
    markSeen: db.prepare(`INSERT OR REPLACE INTO ${table} (bucket, message_id, seen_at) VALUES (?, ?, ?)`),
    /** Forgets at most FORGET_CHUNK ids of buckets below the given one (so no send stalls long). */
    forgetBefore: db.prepare(
      `DELETE FROM ${table} WHERE bucket < @below AND (bucket, message_id) IN
         (SELECT bucket, message_id FROM ${table} WHERE bucket < @below LIMIT ${FORGET_CHUNK})`,
    ),
  };
}

/** Message statements of a queue or subscription. */
export function prepareReceivable(db: Database.Database, id: number) {
  const m = `messages_${id}`;
  const dl = `dead_letters_${id}`;
  const visibleByLimit = new Map<number, Database.Statement<[number], MessageRow>>();
  return {
    insert: db.prepare(
      `INSERT INTO ${m} (seq, message_id, body, subject, content_type, correlation_id, props, enqueued_at,
         visible_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /**
     * Up to `limit` visible messages in enqueue order (a walk of the table in rowid order). The
     * limit is written into the SQL: this SQLite build (STAT4) re-prepares a statement on every
     * run when its LIMIT is a bound parameter, which costs more than the query itself.
     */
    visible: (limit: number): Database.Statement<[number], MessageRow> => {
      let statement = visibleByLimit.get(limit);
      if (!statement) {
        if (!Number.isSafeInteger(limit) || limit < 1)
          throw new RangeError('limit must be a positive integer');
        statement = db.prepare<[number], MessageRow>(
          `SELECT ${MESSAGE_COLUMNS} FROM ${m} WHERE visible_at <= ? ORDER BY seq LIMIT ${limit}`,
        );
        if (visibleByLimit.size < MAX_CACHED_LIMITS) visibleByLimit.set(limit, statement);
      }
      return statement;
    },
    lock: db.prepare(
      `UPDATE ${m} SET lock_token = ?, visible_at = ?, delivery_count = delivery_count + 1 WHERE seq = ?`,
    ),
    complete: db.prepare(`DELETE FROM ${m} WHERE seq = ? AND lock_token = ? AND visible_at > ?`),
    release: db.prepare(
      `UPDATE ${m} SET lock_token = NULL, visible_at = ? WHERE seq = ? AND lock_token = ? AND visible_at > ?`,
    ),
    renew: db.prepare(`UPDATE ${m} SET visible_at = ? WHERE seq = ? AND lock_token = ? AND visible_at > ?`),
    isLocked: db.prepare(`SELECT 1 FROM ${m} WHERE seq = ? AND lock_token = ? AND visible_at > ?`).pluck(),
    deadLetter: db.prepare(
      `INSERT INTO ${dl} (${MESSAGE_COLUMNS}, reason, description, dead_lettered_at)
       SELECT ${MESSAGE_COLUMNS}, ?, ?, ? FROM ${m} WHERE seq = ?`,
    ),
    remove: db.prepare(`DELETE FROM ${m} WHERE seq = ?`),
    resubmit: db.prepare(
      `INSERT INTO ${m} (seq, message_id, body, subject, content_type, correlation_id, props, enqueued_at,
         visible_at)
       SELECT @newSeq, message_id, body, subject, content_type, correlation_id, props, @now, @now
       FROM ${dl} WHERE seq = @seq`,
    ),
    removeDeadLetter: db.prepare(`DELETE FROM ${dl} WHERE seq = ?`),
    peekDeadLetters: db.prepare(
      `SELECT ${MESSAGE_COLUMNS}, reason, description, dead_lettered_at FROM ${dl}
       WHERE seq >= ? ORDER BY seq LIMIT ?`,
    ),
    countEnqueued: db.prepare(`SELECT count(*) FROM ${m} WHERE enqueued_at <= ?`).pluck(),
    countScheduled: db.prepare(`SELECT count(*) FROM ${m} WHERE enqueued_at > ?`).pluck(),
    countDeadLetters: db.prepare(`SELECT count(*) FROM ${dl}`).pluck(),
    /** Earliest visibility of the entity's messages (at or before now: visible already). */
    earliestVisible: db.prepare(`SELECT min(visible_at) FROM ${m}`).pluck(),
    /** Earliest visibility strictly after a time (a listener's next wake-up). */
    nextVisibleAfter: db.prepare(`SELECT min(visible_at) FROM ${m} WHERE visible_at > ?`).pluck(),
    /** Whether a message became visible in (since, now]. */
    becameVisible: db.prepare(`SELECT 1 FROM ${m} WHERE visible_at > ? AND visible_at <= ? LIMIT 1`).pluck(),
    anyVisible: db.prepare(`SELECT 1 FROM ${m} WHERE visible_at <= ? LIMIT 1`).pluck(),
  };
}

export type SharedStatements = ReturnType<typeof prepareShared>;
export type SendableStatements = ReturnType<typeof prepareSendable>;
export type ReceivableStatements = ReturnType<typeof prepareReceivable>;
