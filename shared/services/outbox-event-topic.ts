import type { Clock } from '../ports/clock';
import type { DocumentCollection, StoredDocument } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { SubscriptionSpec } from '../domain/bus-topology';
import {
  EVENT_DOC_TYPE,
  eventMarkDocId,
  withSequence,
  type BridgeCloudEvent,
  type EventDocumentBody,
} from '../domain/cloud-event';
import type { EventLog } from './event-log';
import type { EventMetrics } from './event-metrics';
import type { OutboxItem } from './event-outbox';
import type { EventPublisher, PendingStatus, PropagationOutcome } from './event-publisher';
import type { EventQuarantine } from './event-quarantine';

/** What a consumer's handler is given besides the event. */
export interface OutboxDelivery {
  /** 1 on the first attempt, as Service Bus counts. */
  deliveryCount: number;
  item: OutboxItem;
}

/**
 * A consumer whose function takes events in batches (the trigger's `cardinality: 'many'`): each
 * call gets up to `maxEvents` waiting events in commit order, and succeeds or fails as a whole.
 */
export interface OutboxBatchHandling {
  /** Most events in one call (host.json serviceBus.maxMessageBatchSize). */
  maxEvents: number;
  handler: (events: BridgeCloudEvent[], deliveries: OutboxDelivery[]) => Promise<void>;
}

export interface OutboxConsumerSpec {
  topic: string;
  /** Its name, event-type filter and delivery limit (from the bus topology). */
  subscription: SubscriptionSpec;
  /** One event per call; unused when `batch` is given. */
  handler: (event: BridgeCloudEvent, delivery: OutboxDelivery) => Promise<void>;
  /** Batches instead of single events. */
  batch?: OutboxBatchHandling;
  /** Calls at once (host.json serviceBus.maxConcurrentCalls; with `batch`, batches at once). */
  maxConcurrentCalls: number;
}

export interface OutboxEventTopicOptions {
  /** The collection of the event documents. */
  store: DocumentCollection;
  /** Where each consumer keeps its checkpoint (the change-feed lease container). */
  leases: DocumentCollection;
  clock: Clock;
  metrics: EventMetrics;
  quarantine: EventQuarantine;
  log: EventLog;
  /** Events a consumer holds in memory (queued or being handled); beyond it they wait in the store. */
  maxQueued: number;
  /** How often the durable path reads the store while there is progress to record or work to find. */
  checkIntervalMs?: number;
  /** The backlog shrank (backpressure lets waiting writes through). */
  onProgress?: () => void;
  warn?: (message: string) => void;
}

interface Lease {
  /** Every event at or below this sequence has been handled. */
  continuation: string;
  /** Events up to here may have gone through the bus (an earlier run with BRIDGE_EVENT_TOPIC=bus). */
  legacyUntil: number;
}

const LEASE_PK = 'outbox-topic';
const DEFAULT_CHECK_INTERVAL_MS = 100;
/** Events read from the store per step of the durable path. */
const CHECK_PAGE = 500;
/** Retry delays after a failed delivery: 100 ms doubling to 5 s (Service Bus would retry at once). */
const retryDelayMs = (deliveryCount: number) => Math.min(5_000, 100 * 2 ** (deliveryCount - 1));

/**
 * The bridge-events topic when it lives in the outbox (see ./event-publisher.ts): the topic's
 * messages are the store's event documents, in commit order, and each consumer (a subscription
 * with its function) takes them
 * - live, from the commit notification (`publishSoon`): in memory, no store read, no copy;
 * - durably, from the store's event feed after its checkpoint (`check`): what the live path did
 *   not see (a restart, a full queue, another process's commits) is read and handled, and the
 *   checkpoint advances over the leading run of handled events, so after a crash every event after
 *   the checkpoint is handled again (at least once, as with Service Bus).
 * A failing delivery is retried with backoff up to the subscription's maxDeliveryCount, then the
 * event is quarantined (EventQuarantine) and the consumer moves on; one event never holds back
 * another. Each consumer holds at most `maxQueued` events in memory.
 */
export class OutboxEventTopic implements EventPublisher {
  readonly topic = 'outbox' as const;
  private readonly consumers = new Map<string, OutboxConsumer>();

  constructor(private readonly o: OutboxEventTopicOptions) {}

  /** Starts a consumer (loads or creates its checkpoint); resolves to the function that stops it. */
  async consume(spec: OutboxConsumerSpec): Promise<() => Promise<void>> {
    const consumer = new OutboxConsumer(spec, this.o);
    const where = consumer.where;
    if (this.consumers.has(where)) throw new Error(`${where} already has a consumer`);
    await consumer.start();
    this.consumers.set(where, consumer);
    return async () => {
      if (this.consumers.get(where) !== consumer) return; // drained already
      this.consumers.delete(where);
      await consumer.stop();
    };
  }

  publishSoon(items: OutboxItem[]): void {
    for (const consumer of this.consumers.values()) consumer.notify(items);
  }

  /** Nothing to publish: the outbox is the topic. The change feed and the sweeper have no work here. */
  async propagate(items: OutboxItem[]): Promise<PropagationOutcome> {
    return { published: 0, alreadyPublished: items.length, quarantined: 0 };
  }

  async sweep(): Promise<PropagationOutcome> {
    return { published: 0, alreadyPublished: 0, quarantined: 0 };
  }

  async pending(): Promise<PendingStatus> {
    let pendingEvents = 0;
    let oldestPendingAt: number | undefined;
    for (const consumer of this.consumers.values()) {
      const status = consumer.pending();
      pendingEvents = Math.max(pendingEvents, status.count);
      if (status.oldestAt !== undefined)
        oldestPendingAt = Math.min(oldestPendingAt ?? Infinity, status.oldestAt);
    }
    return { pendingEvents, ...(oldestPendingAt !== undefined ? { oldestPendingAt } : {}), scannedEvents: 0 };
  }

  /** Taken by every consumer of this instance (true when none runs here). */
  async isPublished(item: Pick<OutboxItem, 'seq'>): Promise<boolean> {
    for (const consumer of this.consumers.values()) if (!consumer.handled(item.seq)) return false;
    return true;
  }

  async redeliver(item: OutboxItem, where: string): Promise<void> {
    const consumer = this.consumers.get(where);
    if (!consumer) throw new Error(`no consumer of ${where} runs in this instance`);
    consumer.redeliver(item);
  }

  /** Stops every consumer still running: in-flight deliveries finish and checkpoints are recorded. */
  async drain(): Promise<void> {
    const running = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.allSettled(running.map((consumer) => consumer.stop()));
  }

  /** Events committed but not taken yet by the slowest consumer (backpressure reads it). */
  backlog(): number {
    let backlog = 0;
    for (const consumer of this.consumers.values()) backlog = Math.max(backlog, consumer.backlog());
    return backlog;
  }

  /** How long the oldest event waiting for a consumer (not yet being handled) has waited, ms. */
  lagMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const consumer of this.consumers.values()) oldest = Math.min(oldest, consumer.oldestWaitingAt());
    return oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, this.o.clock.now() - oldest);
  }
}

/** One subscription's consumer of the outbox topic. */
class OutboxConsumer {
  readonly where: string;
  private checkpoint = 0;
  private legacyUntil = 0;
  private leaseEtag: string | undefined;
  private readonly leaseId: string;
  /** Waiting to be handled, in sequence order. */
  private readonly queue: OutboxItem[] = [];
  /** Queued, in flight or waiting for a retry: never enqueued twice. */
  private readonly known = new Set<number>();
  private readonly inFlight = new Map<number, { item: OutboxItem; work: Promise<void> }>();
  private readonly retrying = new Map<number, NodeJS.Timeout>();
  /** Handled, above the checkpoint. */
  private readonly done = new Set<number>();
  private readonly attempts = new Map<number, number>();
  /** Quarantined events sent again by an admin: outside the checkpoint's bookkeeping. */
  private readonly redeliveries: OutboxItem[] = [];
  /** Events of a failed batch: until handled, each goes alone, so one bad event fails only itself. */
  private readonly alone = new Set<number>();
  /** Unknown events the durable path saw once, taken at the next check: see `check`. */
  private readonly suspects = new Map<number, OutboxItem>();
  /** Event sequences above the checkpoint that `check` has read, in order. */
  private readonly walked: number[] = [];
  private highestNotified = 0;
  /** A notification was dropped for lack of room: the store holds events memory does not. */
  private missed = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private checking: Promise<void> | undefined;
  private dirty = false;
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly spec: OutboxConsumerSpec,
    private readonly o: OutboxEventTopicOptions,
  ) {
    this.where = `${spec.topic}/${spec.subscription.name}`;
    this.leaseId = `${spec.topic}.${spec.subscription.name}`;
  }

  async start(): Promise<void> {
    const lease = await this.o.leases.read<Lease>(LEASE_PK, this.leaseId);
    if (lease) {
      this.checkpoint = Number(lease.body.continuation);
      this.legacyUntil = lease.body.legacyUntil;
      this.leaseEtag = lease.etag;
    } else {
      // First start on this data: events the sweeper saw published went through the bus (an
      // earlier run with the bus topic) and are delivered from there; start after them, and skip
      // later ones that carry a publication mark, up to the current end of the feed.
      this.checkpoint = await this.o.log.sweeperCheckpoint();
      this.legacyUntil = await this.o.log.lastSequence(this.checkpoint);
      // Written before anything is served, so a crash right after cannot skip an event.
      await this.writeLease();
    }
    // Nothing is served yet, so every event the store shows now is committed: take them at once.
    this.highestNotified = Number.MAX_SAFE_INTEGER;
    try {
      await this.check();
    } finally {
      this.highestNotified = 0;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const timer of this.retrying.values()) clearTimeout(timer);
    await this.checking;
    await Promise.allSettled([...this.active]);
    try {
      await this.check();
    } catch (error) {
      this.o.warn?.(`${this.where}: could not record the checkpoint at shutdown: ${String(error)}`);
    }
  }

  notify(items: OutboxItem[]): void {
    if (this.stopped) return;
    for (const item of items) {
      if (item.seq > this.highestNotified) this.highestNotified = item.seq;
      this.accept(item, 'live');
    }
    this.dispatch();
  }

  handled(seq: number): boolean {
    return seq <= this.checkpoint || this.done.has(seq);
  }

  redeliver(item: OutboxItem): void {
    this.redeliveries.push(item);
    this.dispatch();
  }

  backlog(): number {
    return this.known.size + this.redeliveries.length + (this.missed ? this.o.maxQueued : 0);
  }

  /** Commit time of the oldest event queued and not yet being handled (Infinity: none). */
  oldestWaitingAt(): number {
    const first = this.queue[0];
    if (first) return first.body.committedAt;
    return this.missed ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }

  pending(): { count: number; oldestAt?: number } {
    let oldestAt: number | undefined;
    const consider = (item: OutboxItem) => {
      if (oldestAt === undefined || item.body.committedAt < oldestAt) oldestAt = item.body.committedAt;
    };
    const first = this.queue[0];
    if (first) consider(first);
    for (const { item } of this.inFlight.values()) consider(item);
    return { count: this.backlog(), ...(oldestAt !== undefined ? { oldestAt } : {}) };
  }

  /** Queues an event unless it is handled or known; false when there was no room. */
  private accept(item: OutboxItem, source: 'live' | 'store'): boolean {
    const seq = item.seq;
    if (seq <= this.checkpoint || this.done.has(seq) || this.known.has(seq)) return true;
    if (!this.accepts(item)) {
      this.done.add(seq);
      this.dirty = true;
      return true;
    }
    if (this.known.size >= this.o.maxQueued) {
      if (source === 'live') this.missed = true;
      return false;
    }
    this.known.add(seq);
    const last = this.queue[this.queue.length - 1];
    if (!last || last.seq < seq) this.queue.push(item);
    else this.queue.splice(sortedIndex(this.queue, seq), 0, item);
    return true;
  }

  private accepts(item: OutboxItem): boolean {
    const types = this.spec.subscription.eventTypes;
    return types === undefined || types.includes(item.body.event.type);
  }

  private dispatch(): void {
    while (!this.stopped && this.active.size < this.spec.maxConcurrentCalls) {
      const redelivery = this.redeliveries.shift();
      if (redelivery) {
        this.track(this.redeliverOnce(redelivery));
        continue;
      }
      const group = this.takeGroup();
      if (group.length === 0) return;
      // The oldest waiting event changed: backpressure may let writes through.
      this.o.onProgress?.();
      const work = this.deliver(group);
      for (const item of group) this.inFlight.set(item.seq, { item, work });
      this.track(work);
    }
  }

  /** The next call's events: one, or with `batch` up to its size (an event of a failed batch alone). */
  private takeGroup(): OutboxItem[] {
    const first = this.queue.shift();
    if (!first) return [];
    const group = [first];
    const batch = this.spec.batch;
    if (!batch || this.alone.has(first.seq)) return group;
    for (let next = this.queue[0]; next && group.length < batch.maxEvents; next = this.queue[0]) {
      if (this.alone.has(next.seq)) break;
      group.push(this.queue.shift() as OutboxItem);
    }
    return group;
  }

  private track(work: Promise<void>): void {
    this.active.add(work);
    void work.finally(() => {
      this.active.delete(work);
      this.dispatch();
    });
  }

  /** Calls the function with the items; resolves to its failure (undefined: it succeeded). */
  private async invoke(items: OutboxItem[], deliveries: OutboxDelivery[]): Promise<unknown> {
    try {
      const events = items.map((item) => withSequence(item.body.event, item.seq));
      if (this.spec.batch) await this.spec.batch.handler(events, deliveries);
      else await this.spec.handler(events[0] as BridgeCloudEvent, deliveries[0] as OutboxDelivery);
      return undefined;
    } catch (error) {
      return error ?? new Error('the function failed');
    }
  }

  /** An admin's redelivery of a quarantined event: once, outside the checkpoint's bookkeeping. */
  private async redeliverOnce(item: OutboxItem): Promise<void> {
    const failure = await this.invoke([item], [{ deliveryCount: 1, item }]);
    if (failure === undefined) this.o.metrics.recordPublished(0);
    else await this.quarantine(item, failure, 1);
  }

  private async deliver(items: OutboxItem[]): Promise<void> {
    const deliveries = items.map((item) => ({ deliveryCount: (this.attempts.get(item.seq) ?? 0) + 1, item }));
    const failure = await this.invoke(items, deliveries);
    // A failed batch: its events go alone from now on, so only a bad one keeps failing.
    if (failure !== undefined && items.length > 1) for (const item of items) this.alone.add(item.seq);
    await Promise.all(deliveries.map(({ item, deliveryCount }) => this.settle(item, deliveryCount, failure)));
  }

  private async settle(item: OutboxItem, deliveryCount: number, failure: unknown): Promise<void> {
    this.inFlight.delete(item.seq);
    if (failure === undefined) return this.handledNow(item);
    if (
      deliveryCount >= this.spec.subscription.maxDeliveryCount &&
      (await this.quarantine(item, failure, deliveryCount))
    ) {
      return this.handledNow(item);
    }
    // Retry later (the same event keeps its place in `known`, so no path queues it twice).
    this.attempts.set(item.seq, Math.min(deliveryCount, this.spec.subscription.maxDeliveryCount - 1));
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retrying.delete(item.seq);
      if (this.stopped) return;
      this.queue.splice(sortedIndex(this.queue, item.seq), 0, item);
      this.dispatch();
    }, retryDelayMs(deliveryCount));
    timer.unref();
    this.retrying.set(item.seq, timer);
  }

  private handledNow(item: OutboxItem): void {
    this.known.delete(item.seq);
    this.alone.delete(item.seq);
    this.attempts.delete(item.seq);
    this.done.add(item.seq);
    this.dirty = true;
    this.o.metrics.recordPublished(Math.max(0, this.o.clock.now() - item.body.committedAt));
    this.o.onProgress?.();
    this.schedule(this.o.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS);
  }

  /** Sets the event aside with the reason; false if even that failed (then it is retried). */
  private async quarantine(item: OutboxItem, failure: unknown, deliveries: number): Promise<boolean> {
    const reason = `${this.spec.subscription.name} failed at ${deliveries} deliver${deliveries === 1 ? 'y' : 'ies'}: ${
      failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure)
    }`;
    try {
      await this.o.quarantine.add(item, this.where, reason);
      this.o.metrics.recordQuarantined();
      this.o.warn?.(`${this.where}: event ${item.body.event.id} quarantined: ${reason}`);
      return true;
    } catch (error) {
      this.o.warn?.(`${this.where}: could not quarantine ${item.body.event.id}: ${String(error)}`);
      return false;
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.checking) return this.schedule(delayMs);
      this.checking = this.check()
        .catch((error: unknown) => {
          this.o.warn?.(`${this.where}: reading the event feed failed (retrying): ${String(error)}`);
        })
        .finally(() => {
          this.checking = undefined;
          // Keep looking while something is unsettled: unknown events, a backlog, or another process.
          this.schedule(this.known.size > 0 || this.missed || this.suspects.size > 0 ? 100 : 1_000);
        });
    }, delayMs);
    this.timer.unref();
  }

  /**
   * The durable path. Moves the checkpoint over the leading run of handled events (recording it
   * in the lease), then reads the event feed past what it has walked so far and queues the events
   * memory does not know about. Events it has walked are remembered (their sequences, in order), so
   * the store is read once per event, not once per check. An unknown event is taken only once it is
   * certainly committed: at or below the highest sequence notified, or still unknown at the next
   * check (a notification follows its commit within the same event-loop turn, and this store
   * connection may show a commit group's writes before their COMMIT).
   */
  private async check(): Promise<void> {
    while (this.walked.length > 0 && this.done.has(this.walked[0] as number)) {
      const seq = this.walked.shift() as number;
      this.done.delete(seq);
      this.checkpoint = seq;
      this.dirty = true;
    }
    for (const [seq, item] of this.suspects) {
      if (this.known.has(seq) || this.done.has(seq)) {
        this.suspects.delete(seq);
        continue;
      }
      // Read it again: a write this connection showed before its COMMIT may have been rolled back.
      const doc = await this.o.store.read<EventDocumentBody>(item.pk, item.docId);
      if (doc?.seq !== seq) this.done.add(seq);
      else if (!this.accept(item, 'store')) continue;
      this.suspects.delete(seq);
    }
    let reachedEnd = false;
    let room = true;
    while (room && !reachedEnd && this.walked.length < this.o.maxQueued + CHECK_PAGE) {
      const from = this.walked[this.walked.length - 1] ?? this.checkpoint;
      const page = await this.o.store.changeFeed({
        continuation: String(from),
        maxItems: CHECK_PAGE,
        types: [EVENT_DOC_TYPE],
      });
      reachedEnd = page.items.length < CHECK_PAGE;
      for (const doc of page.items) {
        const item = toItem(doc as StoredDocument<EventDocumentBody>);
        if (!item) continue;
        const seq = item.seq;
        this.walked.push(seq);
        if (this.done.has(seq) || this.known.has(seq)) continue;
        if (!this.accepts(item)) {
          this.done.add(seq);
          continue;
        }
        if (seq <= this.legacyUntil && (await this.publishedByBus(item))) {
          // Published to the bus by an earlier run: delivered from the bus's own subscription.
          this.done.add(seq);
          continue;
        }
        if (seq > this.highestNotified) {
          this.suspects.set(seq, item);
          continue;
        }
        if (!this.accept(item, 'store')) {
          // No room: forget this and later ones; the next check reads them again.
          this.walked.pop();
          room = false;
          break;
        }
      }
      while (this.walked.length > 0 && this.done.has(this.walked[0] as number)) {
        const seq = this.walked.shift() as number;
        this.done.delete(seq);
        this.checkpoint = seq;
        this.dirty = true;
      }
    }
    if (reachedEnd && room && this.suspects.size === 0) this.missed = false;
    this.dispatch();
    if (this.dirty) await this.writeLease();
  }

  private async publishedByBus(item: OutboxItem): Promise<boolean> {
    return (await this.o.store.read(item.pk, eventMarkDocId(item.docId))) !== undefined;
  }

  private async writeLease(): Promise<void> {
    this.dirty = false;
    const body: Lease = { continuation: String(this.checkpoint), legacyUntil: this.legacyUntil };
    try {
      const written = await this.o.leases.upsert<Lease>(
        LEASE_PK,
        { id: this.leaseId, type: 'outbox-lease', body },
        this.leaseEtag === undefined ? {} : { ifMatch: this.leaseEtag },
      );
      this.leaseEtag = written.etag;
    } catch (error) {
      if (!isStoreError(error, 'precondition-failed')) {
        this.dirty = true;
        throw error;
      }
      // Another process moved the lease: every event at or below its checkpoint was handled too.
      const current = await this.o.leases.read<Lease>(LEASE_PK, this.leaseId);
      this.leaseEtag = current?.etag;
      const theirs = Number(current?.body.continuation ?? 0);
      if (theirs > this.checkpoint) {
        this.checkpoint = theirs;
        for (const seq of this.done) if (seq <= theirs) this.done.delete(seq);
      }
      this.dirty = true;
    }
  }
}

function toItem(doc: StoredDocument<EventDocumentBody>): OutboxItem | undefined {
  return doc.seq === undefined ? undefined : { pk: doc.pk, docId: doc.id, seq: doc.seq, body: doc.body };
}

/** Where `seq` goes in a queue sorted by sequence. */
function sortedIndex(queue: readonly OutboxItem[], seq: number): number {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((queue[mid] as OutboxItem).seq < seq) low = mid + 1;
    else high = mid;
  }
  return low;
}
