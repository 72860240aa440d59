import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  migrate,
  schemaVersion,
  SchemaVersionError,
  type Migration,
} from '../../../shared/adapters/embedded/sqlite-migrations';

const dir = mkdtempSync(join(tmpdir(), 'bridge-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const steps: Migration[] = [
  { version: 1, name: 'table', up: (db) => db.exec('CREATE TABLE IF NOT EXISTS t (a INTEGER)') },
  { version: 2, name: 'column', up: (db) => db.exec('ALTER TABLE t ADD COLUMN b TEXT') },
  { version: 3, name: 'rows', up: (db) => db.exec("INSERT INTO t (a, b) VALUES (1, 'x')") },
];

test('runs the missing steps once, in order, recording each version', () => {
  const db = new Database(join(dir, 'fresh.db'));
  expect(migrate(db, 'fresh', steps.slice(0, 2))).toBe(2);
  expect(schemaVersion(db)).toBe(2);
  expect(migrate(db, 'fresh', steps)).toBe(3);
  expect(migrate(db, 'fresh', steps)).toBe(3);
  expect(db.prepare('SELECT a, b FROM t').all()).toEqual([{ a: 1, b: 'x' }]);
  db.close();
});

test('a step that fails leaves the file as it was (the whole upgrade rolls back); the next open runs it again', () => {
  const file = join(dir, 'crash.db');
  const db = new Database(file);
  const failing: Migration[] = [
    steps[0] as Migration,
    {
      version: 2,
      name: 'half done',
      up: (d) => {
        d.exec('ALTER TABLE t ADD COLUMN b TEXT');
        throw new Error('power cut');
      },
    },
  ];
  expect(() => migrate(db, 'crash', failing)).toThrow('power cut');
  expect(schemaVersion(db)).toBe(0);
  expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 't'").pluck().get()).toBe(0);
  db.close();
  const reopened = new Database(file);
  expect(migrate(reopened, 'crash', steps)).toBe(3);
  expect(reopened.prepare('SELECT b FROM t').pluck().all()).toEqual(['x']);
  reopened.close();
});

test('a newer file is refused; misnumbered steps are a programming error', () => {
  const db = new Database(join(dir, 'newer.db'));
  db.pragma('user_version = 7');
  expect(() => migrate(db, 'newer.db', steps)).toThrow(SchemaVersionError);
  expect(() => migrate(db, 'newer.db', steps)).toThrow('newer.db has schema version 7');
  expect(() => migrate(db, 'x', [steps[1] as Migration])).toThrow(TypeError);
  db.close();
});
