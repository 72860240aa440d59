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

/** A gate on a manual clock, with a connection accepted just now (so it gates). */
function arrivingGate(perTurn: number) {
  const clock = { now: 1_000 };
  const gate = new TurnGate({ perTurn, arrivalWindowMs: 100, now: () => clock.now });
  gate.noteConnection();
  return { gate, clock };
}

async function enter(gate: TurnGate): Promise<void> {
  const turn = gate.enter();
  if (turn) await turn;
}

describe('TurnGate (local host: handler starts per event-loop turn while connections arrive)', () => {
  it('while connections arrive, starts at most perTurn requests a turn, in arrival order', async () => {
    const { gate } = arrivingGate(3);
    const counter = turnCounter();
    const started: { i: number; turn: number }[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => enter(gate).then(() => started.push({ i, turn: counter.turns }))),
    );
    counter.stop();
    expect(started.map((s) => s.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const perTurn = new Map<number, number>();
    for (const s of started) perTurn.set(s.turn, (perTurn.get(s.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(3);
    expect(perTurn.size).toBeGreaterThanOrEqual(4); // 10 starts, 3 a turn
    expect(gate.queued).toBe(0);
  });

  it('with no connection arriving, lets a request start at once, and releases waiting ones unbounded', async () => {
    const { gate, clock } = arrivingGate(2);
    const waiting = Array.from({ length: 6 }, () => gate.enter());
    expect(waiting.every((w) => w instanceof Promise)).toBe(true);
    // Nobody overtakes a waiting request, whatever the arrivals.
    clock.now += 500;
    expect(gate.enter()).toBeInstanceOf(Promise);
    const counter = turnCounter();
    await Promise.all(waiting);
    counter.stop();
    expect(counter.turns).toBeLessThanOrEqual(2); // all six in one turn, not three
    await nextTurn();
    expect(gate.queued).toBe(0);
    expect(gate.enter()).toBeUndefined();
    gate.noteConnection();
    expect(gate.enter()).toBeInstanceOf(Promise);
  });

  it("runs one request's synchronous part and its microtasks before the next one starts", async () => {
    // What a sync does between its turn and its commit: awaits of promises that are already settled.
    const { gate } = arrivingGate(64);
    const trace: string[] = [];
    const request = async (name: string) => {
      await enter(gate);
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

  it('refuses a bound below 1', () => {
    expect(() => new TurnGate({ perTurn: 0, arrivalWindowMs: 100 })).toThrow(RangeError);
    expect(() => new TurnGate({ perTurn: 1.5, arrivalWindowMs: 100 })).toThrow(RangeError);
  });
});
