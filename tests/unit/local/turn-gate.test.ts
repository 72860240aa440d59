import { TurnGate } from '../../../local/turn-gate';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Counts event-loop turns with a setImmediate chain, started before the requests. */
function turnCounter(): { readonly turns: number; stop(): void } {
  let turns = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    turns += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turns() {
      return turns;
    },
    stop: () => (stopped = true),
  };
}

describe('TurnGate (local host: handler starts per event-loop turn)', () => {
  it('starts at most perTurn requests a turn, in arrival order', async () => {
    const gate = new TurnGate(3);
    const counter = turnCounter();
    const startedAt: { i: number; turn: number }[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        gate.enter().then(() => startedAt.push({ i, turn: counter.turns })),
      ),
    );
    counter.stop();
    expect(startedAt.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const perTurn = new Map<number, number>();
    for (const s of startedAt) perTurn.set(s.turn, (perTurn.get(s.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(3);
    expect(perTurn.size).toBeGreaterThanOrEqual(4); // 10 starts, 3 a turn
    expect(gate.queued).toBe(0);
  });

  it("runs one request's synchronous part and its microtasks before the next one starts", async () => {
    // What a sync does between its turn and its commit: awaits of promises that are already settled.
    const gate = new TurnGate(64);
    const trace: string[] = [];
    const request = async (name: string) => {
      await gate.enter();
      trace.push(`${name}:read`);
      await Promise.resolve();
      await Promise.resolve();
      trace.push(`${name}:write`);
      await nextTurn(); // the group commit
      trace.push(`${name}:answered`);
    };
    await Promise.all([request('a'), request('b'), request('c')]);
    expect(trace.slice(0, 6)).toEqual(['a:read', 'a:write', 'b:read', 'b:write', 'c:read', 'c:write']);
    expect(trace.slice(6).sort()).toEqual(['a:answered', 'b:answered', 'c:answered']);
  });

  it('keeps starting requests that arrive while others wait, and refuses a bound below 1', async () => {
    const gate = new TurnGate(1);
    const done: number[] = [];
    const first = Array.from({ length: 3 }, (_, i) => gate.enter().then(() => done.push(i)));
    await nextTurn();
    const later = gate.enter().then(() => done.push(3));
    await Promise.all([...first, later]);
    expect(done).toEqual([0, 1, 2, 3]);
    expect(() => new TurnGate(0)).toThrow(RangeError);
    expect(() => new TurnGate(1.5)).toThrow(RangeError);
  });
});
