/**
 * The live queue of a stream: runs as the hub delivered them, taken one at a time or many at once,
 * always in order and never more than was queued (checked against a plain array with fast-check).
 */
import fc from 'fast-check';
import type { LogEntry } from '../../../shared/services/event-log';
import { EntryRunQueue } from '../../../shared/services/entry-run-queue';

/** Entries are compared by identity only: a numbered stand-in is enough. */
const entry = (n: number) => ({ n }) as unknown as LogEntry;

type Op = { push: number } | { shift: true } | { take: number } | { clear: true };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.integer({ min: 0, max: 9 }).map((push) => ({ push })),
  fc.constant({ shift: true as const }),
  fc.integer({ min: 0, max: 12 }).map((take) => ({ take })),
  fc.constant({ clear: true as const }),
);

describe('EntryRunQueue', () => {
  it('takes what was pushed, in order, however it is taken', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const queue = new EntryRunQueue();
        let model: LogEntry[] = [];
        let n = 0;
        for (const o of ops) {
          if ('push' in o) {
            const run = Array.from({ length: o.push }, () => entry(n++));
            queue.push(run);
            model.push(...run);
          } else if ('shift' in o) {
            expect(queue.shift()).toBe(model.shift());
          } else if ('take' in o) {
            const taken = queue.take(o.take);
            expect([...taken]).toEqual(model.splice(0, o.take));
          } else {
            queue.clear();
            model = [];
          }
          expect(queue.length).toBe(model.length);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('hands out a whole delivered run as the same array (streams in step then share its frames)', () => {
    const queue = new EntryRunQueue();
    const run = [entry(1), entry(2), entry(3)];
    queue.push(run);
    queue.push([entry(4)]);
    expect(queue.take(3)).toBe(run);
    expect(queue.take(5)).toEqual([entry(4)]);
    expect(queue.length).toBe(0);
  });
});
