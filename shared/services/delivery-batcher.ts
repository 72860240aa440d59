/** What a batch may hold, and how many batches may be out at once. */
export interface DeliveryBatcherLimits {
  /** Most items in one batch (≥ 1). */
  maxItems: number;
  /** Most summed `weight` in one batch; a single heavier item still goes, alone. */
  maxWeight: number;
  /** Batches being sent at once (≥ 1). */
  maxInFlight: number;
}

interface Waiting<T, R> {
  item: T;
  weight: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces items into batches without holding any back: what is added by the promise jobs already
 * queued when the first item arrives (the events of one commit, or of one trigger batch, each
 * reaching `add` after the same awaits) goes out together, and while `maxInFlight` batches are out
 * the rest wait and leave together when one returns. So an idle target gets each item at once, and
 * a busy one gets fewer, larger batches instead of a queue of single sends. Every item's promise settles with its batch's outcome.
 * Items leave in arrival order. The waiting items are bounded by the callers (each awaits its own).
 */
export class DeliveryBatcher<T, R> {
  private readonly waiting: Waiting<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly send: (items: T[]) => Promise<R>,
    private readonly limits: DeliveryBatcherLimits,
    private readonly weigh: (item: T) => number = () => 1,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, weight: this.weigh(item), resolve, reject });
      if (!this.scheduled && this.inFlight < this.limits.maxInFlight) {
        // A microtask, not nextTick or setImmediate: those wait for every promise job of the turn
        // (a commit's acknowledgements, its stream frames), which delayed a batch by ~16 ms under
        // load (bench/RESULTS.md, 2026-12-01). Items whose jobs are already queued still join.
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** The item that has waited longest to be sent (undefined: none waits). */
  oldestWaiting(): T | undefined {
    return this.waiting[0]?.item;
  }

  /** True when nothing waits and nothing is out (the batcher may be dropped). */
  get idle(): boolean {
    return this.inFlight === 0 && this.waiting.length === 0 && !this.scheduled;
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxInFlight && this.waiting.length > 0) {
      const batch = this.take();
      this.inFlight += 1;
      let sent: Promise<R>;
      try {
        sent = this.send(batch.map((w) => w.item));
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent
        .then(
          (result) => batch.forEach((w) => w.resolve(result)),
          (error: unknown) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }

  private take(): Waiting<T, R>[] {
    let count = 0;
    let weight = 0;
    for (const next of this.waiting) {
      if (count >= this.limits.maxItems) break;
      if (count > 0 && weight + next.weight > this.limits.maxWeight) break;
      count += 1;
      weight += next.weight;
    }
    return this.waiting.splice(0, count);
  }
}
