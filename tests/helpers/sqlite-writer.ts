/**
 * Child process for the SQLite store's multi-process tests (run through register-ts.js).
 *   writer <dbPath> <count>      writes doc-0 … doc-<count-1>, printing each index only after its
 *                                write returned (the parent treats a printed index as acknowledged)
 *   increment <dbPath> <count>   adds 1 to the "counter" document <count> times with conditional
 *                                read-modify-write, retrying on conflicts; prints "retries <n>"
 * Both print "ready" once the store is open and start on a "go" line from stdin, so that several
 * children run at the same time.
 */
import { createInterface } from 'node:readline';
import { SqliteDocumentStore } from '../../shared/adapters/embedded/sqlite-document-store';
import { isStoreError } from '../../shared/ports/document-store';

export const WRITER_CONTAINER = 'crash';
export const COUNTER_CONTAINER = 'counters';

export function writerBody(index: number): { index: number; payload: string } {
  return { index, payload: `payload-${index}-${'x'.repeat(index % 64)}` };
}

async function writeDocs(store: SqliteDocumentStore, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.upsert(WRITER_CONTAINER, `p${index % 7}`, {
      id: `doc-${index}`,
      type: 'crash',
      body: writerBody(index),
    });
    process.stdout.write(`${index}\n`);
  }
}

/** One increment: read, then write conditionally on the etag read; retried until it applies. */
async function increment(store: SqliteDocumentStore): Promise<number> {
  for (let retries = 0; ; retries++) {
    const current = await store.read<{ count: number }>(COUNTER_CONTAINER, 'p', 'counter');
    try {
      if (current) {
        const body = { count: current.body.count + 1 };
        await store.upsert(
          COUNTER_CONTAINER,
          'p',
          { id: 'counter', type: 'counter', body },
          { ifMatch: current.etag },
        );
      } else {
        await store.create(COUNTER_CONTAINER, 'p', { id: 'counter', type: 'counter', body: { count: 1 } });
      }
      return retries;
    } catch (error) {
      if (!isStoreError(error, 'precondition-failed') && !isStoreError(error, 'conflict')) throw error;
    }
  }
}

async function main(): Promise<void> {
  const [mode, path, countArg] = process.argv.slice(2);
  if ((mode !== 'writer' && mode !== 'increment') || !path || !countArg) {
    throw new Error('usage: sqlite-writer.ts writer|increment <dbPath> <count>');
  }
  const count = Number(countArg);
  const store = new SqliteDocumentStore({ path, purgeIntervalMs: 0 });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.once('line', () => {
      lines.close();
      resolve();
    });
  });
  if (mode === 'writer') {
    await writeDocs(store, count);
  } else {
    let retries = 0;
    for (let i = 0; i < count; i++) retries += await increment(store);
    process.stdout.write(`retries ${retries}\n`);
  }
  await store.close();
  process.stdout.write('done\n');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
