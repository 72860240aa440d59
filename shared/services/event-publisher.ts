import type { OutboxItem } from './event-outbox';

/**
 * How committed events reach the bridge-events topic, behind one interface:
 * - 'bus' (./event-propagator.ts): the topic is a broker (Service Bus in Azure, or the embedded
 *   bus storing each message). The fast path, the change feed and the sweeper publish; a
 *   publication mark records what the broker accepted.
 * - 'outbox' (./outbox-event-topic.ts, embedded bus only): the topic *is* the store's event
 *   documents. Nothing is copied or marked; the topic's consumers are fed from the commit
 *   notification and, durably, from the store's change feed behind a checkpoint.
 * "Published" means: on the broker (bus), or taken by every consumer of the topic (outbox).
 */
export interface EventPublisher {
  readonly topic: 'bus' | 'outbox';
  /** The fast path: events this instance committed moments ago. */
  publishSoon(items: OutboxItem[]): void;
  /**
   * Publishes what is not published yet (the change feed, retries). One event the bus refuses never
   * holds back another: a failing batch is retried event by event, and an event refused for a
   * reason of its own (too large, malformed) is quarantined, not retried.
   */
  propagate(items: OutboxItem[], options?: PropagateOptions): Promise<PropagationOutcome>;
  /** The sweeper: publishes events still unpublished `graceMs` after their commit. */
  sweep(graceMs: number): Promise<PropagationOutcome>;
  /** What is waiting to be published now (lockstep status). */
  pending(): Promise<PendingStatus>;
  isPublished(item: Pick<OutboxItem, 'pk' | 'docId' | 'seq'>): Promise<boolean>;
  /** Publishes a quarantined event again (after a fix); `where` is where it was refused. */
  redeliver(item: OutboxItem, where: string): Promise<void>;
  /** Lets in-flight publications finish: call before closing the bus. */
  drain(): Promise<void>;
}

export interface PropagateOptions {
  /** Attempts at sending before giving up (the sweeper picks up what is left). */
  attempts?: number;
  /** The items were committed moments ago by this instance: skip the "already published?" reads. */
  fresh?: boolean;
}

export interface PropagationOutcome {
  published: number;
  alreadyPublished: number;
  /** Refused for a reason of their own and set aside (see EventQuarantine). */
  quarantined: number;
}

export interface PendingStatus {
  /** Committed events not yet published. */
  pendingEvents: number;
  /** Commit time (epoch ms) of the oldest of them. */
  oldestPendingAt?: number;
  /** Event documents read to find out. */
  scannedEvents: number;
}
