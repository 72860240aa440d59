import fc from 'fast-check';
import { DeliveryBatcher } from '../../../shared/services/delivery-batcher';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A send whose batches stay out until the test answers them. */
function manualSend<T>() {
  const batches: { items: T[]; answer: (ok: boolean) => void }[] = [];
  let out = 0;
  let mostOut = 0;
  const send = (items: T[]) =>
    new Promise<string>((resolve, reject) => {
      out += 1;
      mostOut = Math.max(mostOut, out);
      batches.push({
        items,
        answer: (ok) => {
          out -= 1;
          if (ok) resolve(`sent ${items.join(',')}`);
          else reject(new Error(`failed ${items.join(',')}`));
        },
      });
    });
  return { send, batches, mostOut: () => mostOut };
}

describe('DeliveryBatcher', () => {
  test('what arrives together leaves together; the rest gather while batches are out', async () => {
    const m = manualSend<number>();
    const batcher = new DeliveryBatcher(m.send, { maxItems: 3, maxWeight: 1000, maxInFlight: 1 });
    const first = [1, 2].map((n) => batcher.add(n));
    await turn();
    expect(m.batches.map((b) => b.items)).toEqual([[1, 2]]);
    const later = [3, 4, 5, 6].map((n) => batcher.add(n).catch((e: Error) => e.message));
    await turn();
    expect(m.batches).toHaveLength(1); // one out at a time: 3–6 wait
    m.batches[0]!.answer(true);
    await expect(Promise.all(first)).resolves.toEqual(['sent 1,2', 'sent 1,2']);
    await turn();
    expect(m.batches.map((b) => b.items)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    m.batches[1]!.answer(false);
    await turn();
    m.batches[2]!.answer(true);
    expect(await Promise.all(later)).toEqual(['failed 3,4,5', 'failed 3,4,5', 'failed 3,4,5', 'sent 6']);
    expect(batcher.idle).toBe(true);
  });

  test('items whose promise jobs are already queued join; the batch leaves before later jobs run', async () => {
    const m = manualSend<number>();
    const batcher = new DeliveryBatcher(m.send, { maxItems: 10, maxWeight: 1000, maxInFlight: 1 });
    // As a trigger batch reaches `add`: each event's fan-out resumes from the same awaited promise.
    const ready = Promise.resolve();
    const adds = [1, 2, 3].map((n) => ready.then(() => batcher.add(n)));
    // Two jobs later, the batch is out: it did not wait for the rest of the turn's promise jobs
    // (the acknowledgements and stream frames of the same commit), nor for the next turn.
    const seen = await ready.then(() => undefined).then(() => m.batches.map((b) => b.items));
    expect(seen).toEqual([[1, 2, 3]]);
    expect(batcher.oldestWaiting()).toBeUndefined();
    batcher.add(4).catch(() => undefined);
    expect(batcher.oldestWaiting()).toBe(4); // waits while the first batch is out
    m.batches[0]!.answer(true);
    await Promise.all(adds);
    await turn();
    expect(batcher.oldestWaiting()).toBeUndefined();
    m.batches[1]!.answer(true);
  });

  test('a batch stops before maxWeight, but an item heavier than it still goes, alone', async () => {
    const m = manualSend<number>();
    const batcher = new DeliveryBatcher(m.send, { maxItems: 10, maxWeight: 10, maxInFlight: 4 }, (n) => n);
    const all = [4, 5, 2, 30, 1].map((n) => batcher.add(n));
    await turn();
    await turn();
    expect(m.batches.map((b) => b.items)).toEqual([[4, 5], [2], [30], [1]]);
    m.batches.forEach((b) => b.answer(true));
    await Promise.all(all);
  });

  test('a send that throws rejects its batch and the batcher goes on', async () => {
    let calls = 0;
    const batcher = new DeliveryBatcher(
      (items: string[]) => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return Promise.resolve(items.length);
      },
      { maxItems: 5, maxWeight: 100, maxInFlight: 1 },
    );
    await expect(batcher.add('a')).rejects.toThrow('boom');
    await expect(batcher.add('b')).resolves.toBe(1);
  });

  test('model: every item settles once with its own batch, in order, within every bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxItems: fc.integer({ min: 1, max: 6 }),
          maxWeight: fc.integer({ min: 1, max: 20 }),
          maxInFlight: fc.integer({ min: 1, max: 3 }),
        }),
        // Steps: add items (with weights) in one turn, or answer the oldest batch out.
        fc.array(
          fc.oneof(
            fc.record({ add: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }) }),
            fc.record({ answer: fc.boolean() }),
          ),
          { maxLength: 30 },
        ),
        async (limits, steps) => {
          const m = manualSend<string>();
          const weights = new Map<string, number>();
          const batcher = new DeliveryBatcher(m.send, limits, (id) => weights.get(id) ?? 0);
          const outcomes = new Map<string, string[]>();
          const added: string[] = [];
          let answered = 0;
          const promises: Promise<void>[] = [];
          for (const step of steps) {
            if ('add' in step) {
              for (const weight of step.add) {
                const id = `i${added.length}`;
                weights.set(id, weight);
                added.push(id);
                promises.push(
                  batcher.add(id).then(
                    (r) => void (outcomes.get(id) ?? outcomes.set(id, []).get(id)!).push(r),
                    (e: Error) => void (outcomes.get(id) ?? outcomes.set(id, []).get(id)!).push(e.message),
                  ),
                );
              }
            } else if (answered < m.batches.length) {
              m.batches[answered]!.answer(step.answer);
              answered += 1;
            }
            await turn();
          }
          // Answer everything left until nothing waits.
          while (!batcher.idle) {
            while (answered < m.batches.length) m.batches[answered++]!.answer(true);
            await turn();
          }
          await Promise.all(promises);
          // In order, nothing lost or repeated.
          expect(m.batches.flatMap((b) => b.items)).toEqual(added);
          for (const b of m.batches) {
            expect(b.items.length).toBeLessThanOrEqual(limits.maxItems);
            const weight = b.items.reduce((sum, id) => sum + weights.get(id)!, 0);
            if (b.items.length > 1) expect(weight).toBeLessThanOrEqual(limits.maxWeight);
            // Each item got exactly its batch's outcome, once.
            for (const id of b.items) expect(outcomes.get(id)).toHaveLength(1);
            const results = new Set(b.items.map((id) => outcomes.get(id)![0]));
            expect(results.size).toBe(1);
            expect([...results][0]).toMatch(new RegExp(`(sent|failed) ${b.items.join(',')}$`));
          }
          expect(m.mostOut()).toBeLessThanOrEqual(limits.maxInFlight);
        },
      ),
      { numRuns: 300 },
    );
  });
});
