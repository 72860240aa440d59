import type { OutboxItem } from './event-outbox';

/** Hears about the events of every commit this instance makes, right after the commit. */
export type CommitListener = (items: OutboxItem[]) => void;

/**
 * The commit notification: services call `publish` once their write (and its event) committed;
 * whoever needs to react at once (the fast path to the bus, the outbox topic's consumers, the
 * lockstep monitor, an event stream) subscribes. The composition root owns the one instance, so
 * every commit notification fans out from one place. Listeners run synchronously, in subscription
 * order; one that throws is reported and does not stop the others (the durable paths behind each
 * listener make a missed notification cost latency only).
 */
export class CommitFeed {
  private readonly listeners = new Set<CommitListener>();

  constructor(private readonly warn: (message: string) => void = () => undefined) {}

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(items: OutboxItem[]): void {
    if (items.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(items);
      } catch (error) {
        this.warn(`a commit listener failed (its durable path will catch up): ${String(error)}`);
      }
    }
  }
}
