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
 * Coalesces items into batches without holding any back: what arrives within one event-loop turn
 * goes out together, and while `maxInFlight` batches are out the rest wait and leave together when
 * one returns. So an idle target gets each item at once, and a busy one gets fewer, larger batches
 * instead of a queue of single sends. Every item's promise settles with its batch's outcome.
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
        // The turn's other items join this batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
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
