import Database from 'better-sqlite3';
import { GroupCommit } from '../../../shared/adapters/embedded/group-commit';

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
  await expect(failed).rejects.toThrow(/UNIQUE/);
  await Promise.all([a, c]);
  expect(rows()).toEqual(['a', 'c']);
});

test('a checked write that SQLite fails midway rolls the whole group back and rejects every write', async () => {
  const { insert, rows, group } = setup();
  const before = group.runChecked(() => insert.run('x'));
  let thrown: unknown;
  try {
    await group.runChecked(() => {
      insert.run('y');
      insert.run('x'); // fails after 'y' was written: 'y' cannot be undone alone
    });
  } catch (error) {
    thrown = error;
  }
  expect(String(thrown)).toMatch(/UNIQUE/);
  const after = group.runChecked(() => insert.run('z'));
  await expect(before).rejects.toThrow(/UNIQUE/);
  await expect(after).rejects.toThrow(/UNIQUE/);
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
