import fc from 'fast-check';
import { Fifo } from '../../../shared/services/fifo';

describe('Fifo', () => {
  it('behaves as an array used as a queue, through compactions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('shift' as const), fc.constant('clear' as const), fc.integer()), {
          maxLength: 6000,
        }),
        (ops) => {
          const fifo = new Fifo<number>();
          let model: number[] = [];
          for (const op of ops) {
            if (op === 'shift') expect(fifo.shift()).toBe(model.shift());
            else if (op === 'clear') {
              fifo.clear();
              model = [];
            } else {
              fifo.push(op);
              model.push(op);
            }
            expect(fifo.length).toBe(model.length);
          }
          expect(model.map((_, i) => fifo.at(i))).toEqual(model);
          expect(fifo.at(model.length)).toBeUndefined();
          expect(fifo.at(-1)).toBeUndefined();
        },
      ),
      { numRuns: 30 },
    );
  });

  it('keeps its order past the compaction point (more than 1,024 taken)', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 3000; i++) fifo.push(i);
    for (let i = 0; i < 2000; i++) expect(fifo.shift()).toBe(i);
    expect(fifo.length).toBe(1000);
    expect(fifo.at(0)).toBe(2000);
    fifo.push(3000);
    expect(fifo.at(1000)).toBe(3000);
  });
});
