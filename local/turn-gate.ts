/**
 * While new connections are arriving, lets request handlers start a bounded number per event-loop
 * turn, in arrival order; otherwise it stays out of the way.
 *
 * Why: Node 20 (libuv 1.46) accepts one new connection per event-loop turn, and a host saturated by
 * keep-alive clients runs every request that arrived in one turn (turns of ~100 ms at 500
 * connections), so it accepted ~10–20 connections a second and new clients (a portal resuming its
 * event stream) waited seconds in the kernel's accept queue (bench/RESULTS.md, 2026-11-30). Short
 * turns accept more, but a turn's requests share one group commit, so always-short turns cost
 * throughput. Hence: bounded turns only while connections arrive (one was accepted within
 * `arrivalWindowMs`, a sign more wait, since they come one per turn), unbounded otherwise.
 *
 * Each gated request starts in its own setImmediate callback, so Node drains the microtasks of one
 * (its synchronous store reads and writes) before the next starts: requests about the same user do
 * not all read one version and then lose the optimistic-concurrency race to each other, which they
 * would if one callback released them all at once.
 */
export interface TurnGateOptions {
  /** Handler starts per turn while connections arrive. */
  perTurn: number;
  /** How recent an accepted connection keeps the gate closed. */
  arrivalWindowMs: number;
  now?: () => number;
}

export class TurnGate {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  private lastArrival = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly options: TurnGateOptions) {
    if (!Number.isInteger(options.perTurn) || options.perTurn < 1) {
      throw new RangeError('perTurn must be a whole number ≥ 1');
    }
    this.now = options.now ?? (() => performance.now());
  }

  /** Requests waiting for a turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** The server accepted a connection (its 'connection' event). */
  noteConnection(): void {
    this.lastArrival = this.now();
  }

  /**
   * Undefined: start now. A promise: start when it resolves (at the earliest in the next turn's
   * check phase). Nobody overtakes a waiting request.
   */
  enter(): Promise<void> | undefined {
    if (this.queued === 0 && !this.arriving()) return undefined;
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private arriving(): boolean {
    return this.now() - this.lastArrival < this.options.arrivalWindowMs;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.releaseTurn);
  }

  /** Schedules the next starts, each its own callback of the next check phase. */
  private readonly releaseTurn = (): void => {
    this.scheduled = false;
    const limit = this.arriving() ? this.options.perTurn : Number.POSITIVE_INFINITY;
    for (let i = 0; i < limit && this.head < this.waiting.length; i++) {
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
