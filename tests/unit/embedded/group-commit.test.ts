import Database from 'better-sqlite3';
import { GroupCommit } from '../../../shared/adapters/embedded/group-commit';

/**
 * What a promise rejects with. SQLite errors are matched by shape: the native addon keeps the error
 * class of the first test context that loaded it, so `toThrow` may not recognise them as Errors.
 */
async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  throw new Error('expected a rejection');
}
const UNIQUE = { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' };

function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
  const rows = () => db.prepare('SELECT k FROM t ORDER BY k').pluck().all();
  return { db, insert, rows, group: new GroupCommit(db, (e) => e) };
}

test('writes of one turn commit together; a savepoint write that throws rolls back alone', async () => {
  const { insert, rows, group } = setup();
  const a = group.run(() => insert.run('a'));
  const failed = (() => {
    try {
      return group.run(() => {
        insert.run('b');
        insert.run('a'); // constraint error after a successful statement
      });
    } catch (error) {
      return Promise.reject(error);
    }
  })();
  const c = group.runStatement(() => insert.run('c'));
  expect(await rejection(failed)).toMatchObject(UNIQUE);
  await Promise.all([a, c]);
  expect(rows()).toEqual(['a', 'c']);
});

test('a checked write that SQLite fails midway rolls the whole group back and rejects every write', async () => {
  const { insert, rows, group } = setup();
  const before = group.runChecked(() => insert.run('x'));
  const midway = (async () =>
    group.runChecked(() => {
      insert.run('y');
      insert.run('x'); // fails after 'y' was written: 'y' cannot be undone alone
    }))();
  expect(await rejection(midway)).toMatchObject(UNIQUE);
  const after = group.runChecked(() => insert.run('z'));
  expect(await rejection(before)).toMatchObject(UNIQUE);
  expect(await rejection(after)).toMatchObject(UNIQUE);
  expect(rows()).toEqual([]);
  // The next group is healthy again.
  await group.runChecked(() => insert.run('w'));
  expect(rows()).toEqual(['w']);
});

test('a checked write that fails before its first statement costs the group nothing', async () => {
  const { insert, rows, group } = setup();
  const ok = group.runChecked(() => insert.run('k'));
  expect(() =>
    group.runChecked(() => {
      throw new Error('conflict found while checking');
    }),
  ).toThrow('conflict found while checking');
  await ok;
  expect(rows()).toEqual(['k']);
});
