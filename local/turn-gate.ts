/**
 * Lets requests start a bounded number per event-loop turn, in arrival order.
 *
 * Why: Node 20 (libuv 1.46) accepts one new connection per event-loop turn, and a host saturated by
 * keep-alive clients otherwise runs every request that arrived in one turn (turns of ~100 ms at 500
 * connections), so it accepted ~10–20 connections a second and new clients waited seconds in the
 * kernel's accept queue (bench/RESULTS.md, 2026-11-30). With at most `perTurn` starts a turn, turns
 * stay short and every connection is taken within the turns it waits.
 *
 * Each request starts in its own setImmediate callback, so Node drains the microtasks of one (its
 * synchronous store reads and writes) before the next starts: requests about the same user do not
 * all read the same version and then lose the optimistic-concurrency race to each other, which they
 * would if one callback released them all at once.
 */
export class TurnGate {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  private scheduled = false;

  constructor(private readonly perTurn: number) {
    if (!Number.isInteger(perTurn) || perTurn < 1) throw new RangeError('perTurn must be a whole number ≥ 1');
  }

  /** Requests waiting for a turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Resolves when the caller may start: at the earliest in the next turn's check phase. */
  enter(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.releaseTurn);
  }

  /** Schedules the next `perTurn` starts, each its own callback of the next check phase. */
  private readonly releaseTurn = (): void => {
    this.scheduled = false;
    for (let i = 0; i < this.perTurn && this.head < this.waiting.length; i++) {
      setImmediate(this.waiting[this.head] as () => void);
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    if (this.head < this.waiting.length) this.schedule();
  };
}
