import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { SecretSealer } from './secret-sealer';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { MessageSender } from '../ports/message-sender';
import { WebhookTransportError, type WebhookTransport } from '../ports/webhook-transport';
import { backoffDelayMs } from '../domain/backoff';
import { WEBHOOK_RETRY_QUEUE } from '../domain/bus-topology';
import type { OutgoingMessage } from '../domain/bus-message';
import {
  busMessageId,
  CLOUDEVENTS_BATCH_CONTENT_TYPE,
  CLOUDEVENTS_CONTENT_TYPE,
  EVENT_DOC_TYPE,
  withSequence,
  type BridgeCloudEvent,
  type EventDocumentBody,
  type PendingEvent,
} from '../domain/cloud-event';
import { refusedWebhookUrl } from '../domain/webhook-target';
import { batchMessageId, MAX_BATCH_BYTES, MAX_EVENTS_PER_BATCH } from '../domain/webhook-batching';
import { endUserOfOwner, eventFilterForOwner, mayManageOwned, ownerIdOf } from './access-policy';
import { eventRefusalReason } from './bus-refusals';
import type { CommitListener } from './commit-feed';
import { DeliveryBatcher } from './delivery-batcher';
import { outboxOperation, toOutboxItem, type EventLimits } from './event-outbox';
import type { DeliveryAttempt, WebhookAttemptLog } from './webhook-attempt-log';
import { ServiceError } from './errors';
import type { Principal } from './principal';

export interface WebhookSubscription {
  id: string;
  eventTypes: string[];
  url: string;
  createdAt: string;
  /** The owner: access-policy ownerIdOf(the principal that subscribed). */
  createdBy: string;
  /** `disabled`: no deliveries until re-enabled (POST …/enable); older documents lack it (active). */
  status: 'active' | 'disabled';
  disabledAt?: string;
  disabledReason?: string;
  /** When the current run of failed deliveries began (absent while deliveries succeed). */
  failingSince?: string;
  /**
   * Batched delivery: each POST is a JSON array of up to this many events (CloudEvents batched
   * mode). Absent: one event per POST, as a single CloudEvent.
   */
  maxEventsPerBatch?: number;
}

interface SubscriptionDocument extends Omit<WebhookSubscription, 'status'> {
  status?: 'active' | 'disabled';
  /** Standard Webhooks signing secret (whsec_…); returned once, at creation. */
  secret: string;
  /** How often it was disabled: the position of its next subscription_disabled event. */
  disabledCount?: number;
}

/** The view of a subscription document its owner gets: no secret, no bookkeeping. */
function publicView(doc: SubscriptionDocument): WebhookSubscription {
  const { secret: _secret, disabledCount: _count, ...rest } = doc;
  return { ...rest, status: doc.status ?? 'active' };
}

/** A delivery still to be tried: what webhooks-retry receives from the retry queue. */
export interface DeliveryTask {
  subscriptionId: string;
  event: BridgeCloudEvent;
  attempt: number;
  firstAttemptAt: number;
}

export interface DeadLetter {
  id: string;
  subscriptionId: string;
  event: BridgeCloudEvent;
  attempts: number;
  firstAttemptAt: string;
  lastAttemptAt: string;
  lastError: string;
}

export interface WebhookOptions {
  maxAttempts: number;
  maxAgeSeconds: number;
  backoffBaseMs: number;
  timeoutMs: number;
  allowPrivateAddresses: boolean;
  /** Continuous failure after which a subscription is disabled; 0: never. */
  disableAfterSeconds: number;
  /** The event retention: how far back `recover` may go. */
  retentionSeconds: number;
}

/** Most events one recover may re-send; more is a 422 (choose a later `since`). */
export const MAX_RECOVER_EVENTS = 10_000;
/** Most event documents one recover may read while looking for the matching ones. */
const MAX_RECOVER_SCAN = 200_000;
const RECOVER_SEND_BATCH = 100;
const WEBHOOK_EVENT_SOURCE = '/bridge/webhooks/';

const SUBSCRIPTIONS_PK = 'webhooks';
const SUBSCRIPTION_TYPE = 'webhook-subscription';
const DEAD_LETTER_TYPE = 'webhook-dead-letter';
const deadLetterPartition = (subscriptionId: string) => `webhook-dl:${subscriptionId}`;
const MAX_BACKOFF_MS = 60 * 60 * 1000;
/**
 * Fan-out reads the subscription list for every event; it is cached this long per instance.
 * Changes made through this instance apply at once; those made on another instance within this time.
 */
const SUBSCRIPTION_CACHE_MS = 1_000;
const MAX_SIGNERS = 10_000;
/** A live first attempt unanswered after this goes to the retry queue (see fanOut). */
export const LIVE_DEADLINE_MS = 1_000;
/** How long a subscription that missed the deadline is served from the retry queue only. */
const SLOW_FOR_MS = 30_000;
const MAX_LATE_DELIVERIES = 10_000;
/** Batched POSTs out at once per subscription: while they are, the next events gather. */
const BATCHES_IN_FLIGHT = 8;
/** Single-event POSTs out at once per subscription (the transport's connections per endpoint). */
const SINGLE_POSTS_IN_FLIGHT = 64;
/** How long `lagMs` reuses its answer (every event-producing write asks). */
const LAG_CACHE_MS = 5;

/** One event of a POST: its task and its serialised CloudEvent. */
interface Outgoing {
  task: DeliveryTask;
  body: string;
}

/** One event waiting in a subscription's batcher, with the subscription document it came with. */
interface BatchItem extends Outgoing {
  sub: SubscriptionDocument;
  /** When it started waiting to be sent (clock ms). */
  queuedAt: number;
}

const isBatched = (sub: SubscriptionDocument) => sub.maxEventsPerBatch !== undefined;

/** Why an attempt failed, and whether trying again can help. */
interface Failure {
  failure: string;
  permanent: boolean;
}

/** The retry queue message id of a delivery task: deterministic, and within the bus's 128 characters. */
function retryMessageId(task: DeliveryTask, kind: string): string {
  return busMessageId(`${task.event.id}|${task.subscriptionId}|${kind}|${task.attempt}`);
}

/** One dead letter per event and subscription: the event id when it is a safe document id, else its hash. */
function deadLetterId(eventId: string): string {
  return /^[A-Za-z0-9_.:-]{1,200}$/.test(eventId)
    ? `dl_${eventId}`
    : `dl_sha256_${createHash('sha256').update(eventId).digest('hex')}`;
}

/** What WebhookService is built from (the composition root passes these). */
export interface WebhookServiceDeps {
  store: DocumentCollection;
  sender: MessageSender;
  transport: WebhookTransport;
  clock: Clock;
  options: WebhookOptions;
  /** Seals signing secrets at rest (AES-256-GCM, key in the secret store). */
  sealer: SecretSealer;
  /** Where every delivery attempt is recorded (GET …/attempts). */
  attempts: WebhookAttemptLog;
  /** What subscription_disabled events respect (retention, size). */
  eventLimits: EventLimits;
  /** Commit notifications (the fast path) for the subscription_disabled events this service writes. */
  onCommit?: CommitListener;
  log?: (message: string) => void;
}

/**
 * subscribe_to_events over signed webhooks (Standard Webhooks). The first attempt happens as the
 * event arrives; a failure is retried from a queue with exponential backoff and jitter until the
 * attempt or age limit, then lands in the subscription's dead letters, from where it can be redelivered.
 */
export class WebhookService {
  private readonly store: DocumentCollection;
  private readonly sender: MessageSender;
  private readonly transport: WebhookTransport;
  private readonly clock: Clock;
  private readonly options: WebhookOptions;
  private readonly sealer: SecretSealer;
  private readonly log: (message: string) => void;
  private readonly attempts: WebhookAttemptLog;
  private readonly eventLimits: EventLimits;
  private readonly onCommit: CommitListener | undefined;

  constructor(deps: WebhookServiceDeps) {
    this.store = deps.store;
    this.sender = deps.sender;
    this.transport = deps.transport;
    this.clock = deps.clock;
    this.options = deps.options;
    this.sealer = deps.sealer;
    this.log = deps.log ?? (() => undefined);
    this.attempts = deps.attempts;
    this.eventLimits = deps.eventLimits;
    this.onCommit = deps.onCommit;
  }

  private cached?: { at: number; subscriptions: Promise<SubscriptionDocument[]> };
  /** Subscriptions that missed the live deadline, until when their first attempts go to the queue. */
  private readonly slowUntil = new Map<string, number>();
  /** Retry messages made unnecessary by a late success of the live attempt (bounded, oldest first). */
  private readonly lateDelivered = new Set<string>();
  /** Signers per subscription (a Webhook decodes its secret once), rebuilt when the list is re-read. */
  private signers = new Map<string, { secret: string; webhook: Webhook }>();
  /** The live first attempts, per subscription: batched, or one per POST with a bound on those out. */
  private readonly batchers = new Map<string, DeliveryBatcher<BatchItem, true | Failure>>();
  private lag: { at: number; value: number } | undefined;

  /** A subscription owned by `owner`: only it and admins see and manage it (and its dead letters). */
  async subscribe(
    eventTypes: string[],
    url: string,
    owner: Principal,
    options: { maxEventsPerBatch?: number } = {},
  ): Promise<WebhookSubscription & { secret: string }> {
    const batch = options.maxEventsPerBatch;
    if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= MAX_EVENTS_PER_BATCH)) {
      const message = `must be an integer from 1 to ${MAX_EVENTS_PER_BATCH}`;
      throw new ServiceError('validation', `maxEventsPerBatch ${message}.`, [
        { path: '/maxEventsPerBatch', message },
      ]);
    }
    const refused = refusedWebhookUrl(url, this.options.allowPrivateAddresses);
    if (refused)
      throw new ServiceError('validation', `The webhook URL ${refused}.`, [
        { path: '/url', message: refused },
      ]);
    const doc: SubscriptionDocument = {
      id: `sub_${randomBytes(8).toString('hex')}`,
      eventTypes: [...new Set(eventTypes)],
      url,
      createdAt: new Date(this.clock.now()).toISOString(),
      createdBy: ownerIdOf(owner),
      status: 'active',
      ...(batch !== undefined ? { maxEventsPerBatch: batch } : {}),
      secret: `whsec_${randomBytes(32).toString('base64')}`,
    };
    // The secret is shown once, here; the document only ever holds it sealed.
    await this.store.create(SUBSCRIPTIONS_PK, {
      id: doc.id,
      type: SUBSCRIPTION_TYPE,
      body: { ...doc, secret: await this.sealer.seal(doc.secret, doc.id) },
    });
    this.cached = undefined;
    return { ...publicView(doc), secret: doc.secret };
  }

  /** The subscriptions `viewer` may see: all for an admin, its own for anyone else. */
  async list(viewer: Principal): Promise<WebhookSubscription[]> {
    return (await this.allSubscriptions()).filter((s) => mayManageOwned(viewer, s.createdBy)).map(publicView);
  }

  /** The subscription, or undefined when there is none *that `viewer` may see* (others' look absent). */
  async get(id: string, viewer: Principal): Promise<WebhookSubscription | undefined> {
    const doc = await this.store.read<SubscriptionDocument>(SUBSCRIPTIONS_PK, id);
    if (!doc || !mayManageOwned(viewer, doc.body.createdBy)) return undefined;
    return publicView(doc.body);
  }

  /** True when `viewer` deleted it; false when there is none it may see. */
  async unsubscribe(id: string, viewer: Principal): Promise<boolean> {
    const doc = await this.store.read<SubscriptionDocument>(SUBSCRIPTIONS_PK, id);
    if (!doc || !mayManageOwned(viewer, doc.body.createdBy)) return false;
    this.cached = undefined;
    try {
      await this.store.delete(SUBSCRIPTIONS_PK, id, { ifMatch: doc.etag });
      return true;
    } catch (error) {
      // Deleted meanwhile (or replaced: ids are never reused, so a replaced one is still gone for us).
      if (isStoreError(error, 'not-found') || isStoreError(error, 'precondition-failed')) return false;
      throw error;
    }
  }

  /** 404 unless `viewer` may see the subscription: the owner check behind every dead-letter route. */
  private async visible(id: string, viewer: Principal): Promise<void> {
    if (!(await this.get(id, viewer))) throw new ServiceError('not-found', `No subscription ${id}.`);
  }

  /**
   * First delivery of an event to every subscription of its type, all at once; a failed attempt is
   * scheduled on the retry queue. Subscriptions do not wait for each other, nor does the fan-out
   * wait for a slow one: an attempt still unanswered after LIVE_DEADLINE_MS is handed to the retry
   * queue (it may still succeed; then this instance drops that retry), and a subscription that
   * missed the deadline gets its next events through the retry queue directly for SLOW_FOR_MS, so a
   * slow or hanging endpoint never holds back the live path (or, through backpressure, the writes).
   * One whose retry cannot even be scheduled for a reason of the event itself is dead-lettered with
   * that reason rather than failing the fan-out (which would repeat the others' deliveries).
   */
  async fanOut(event: BridgeCloudEvent): Promise<{ delivered: number; scheduled: number }> {
    const now = this.clock.now();
    if (!this.cached || now - this.cached.at > SUBSCRIPTION_CACHE_MS) {
      const subscriptions = this.allSubscriptions();
      this.cached = { at: now, subscriptions };
      subscriptions.catch(() => (this.cached = undefined));
    }
    // A subscription owned by an end user receives only events about that user (access-policy).
    const targets = (await this.cached.subscriptions).filter(
      (s) =>
        s.status !== 'disabled' &&
        s.eventTypes.includes(event.type) &&
        eventFilterForOwner(s.createdBy).matches(event),
    );
    if (targets.length === 0) return { delivered: 0, scheduled: 0 };
    const firstAttemptAt = this.clock.now();
    const body = JSON.stringify(event);
    const outcomes = await Promise.allSettled(
      targets.map((s) =>
        this.liveAttempt(s, { subscriptionId: s.id, event, attempt: 1, firstAttemptAt }, body),
      ),
    );
    let delivered = 0;
    let scheduled = 0;
    let failure: unknown;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') {
        if (outcome.value === 'delivered') delivered += 1;
        else scheduled += 1;
        continue;
      }
      const reason = eventRefusalReason(outcome.reason);
      const task = {
        subscriptionId: (targets[index] as SubscriptionDocument).id,
        event,
        attempt: 1,
        firstAttemptAt,
      };
      if (reason === undefined) failure ??= outcome.reason;
      else await this.deadLetter(task, `the retry could not be scheduled: ${reason}`);
    }
    // A passing failure (the retry queue unreachable): the trigger redelivers the event.
    if (failure !== undefined) throw failure;
    return { delivered, scheduled };
  }

  /** A first attempt bounded by LIVE_DEADLINE_MS (see fanOut). */
  private async liveAttempt(
    sub: SubscriptionDocument,
    task: DeliveryTask,
    body: string,
  ): Promise<'delivered' | 'scheduled' | 'dead-lettered'> {
    const now = this.clock.now();
    if ((this.slowUntil.get(sub.id) ?? 0) > now) {
      await this.schedule(task, 0, 'deferred');
      return 'scheduled';
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), LIVE_DEADLINE_MS);
      timer.unref();
    });
    const attempt = this.batcherFor(sub).add({ sub, task, body, queuedAt: now });
    const first = await Promise.race([attempt, deadline]);
    clearTimeout(timer);
    if (first !== 'late') {
      return first === true ? 'delivered' : this.afterFailure(sub, task, first);
    }
    this.markSlow(sub.id);
    const late = { ...task, attempt: task.attempt + 1 };
    await this.schedule(late, 0, 'late');
    // The attempt goes on: its success makes the retry unnecessary (in this instance); its failure
    // is the retry's business.
    void attempt.then((outcome) => {
      if (outcome === true) this.noteLateDelivery(retryMessageId(late, 'late'));
    });
    return 'scheduled';
  }

  /**
   * How long the oldest first attempt has waited to be sent, ms (0 when none waits): events queue
   * here while a subscription has all its POSTs out. Backpressure reads it with the topic's lag,
   * so writers slow to the pace of the slowest live subscription instead of the queue growing.
   */
  lagMs(): number {
    const now = this.clock.now();
    if (this.lag && now - this.lag.at < LAG_CACHE_MS) return this.lag.value;
    let oldest = now;
    for (const batcher of this.batchers.values()) {
      const first = batcher.oldestWaiting();
      if (first && first.queuedAt < oldest) oldest = first.queuedAt;
    }
    this.lag = { at: now, value: now - oldest };
    return this.lag.value;
  }

  /** The subscription's batcher (one event per POST without maxEventsPerBatch); each batch is sent with the newest document any of its events came with. */
  private batcherFor(sub: SubscriptionDocument): DeliveryBatcher<BatchItem, true | Failure> {
    let batcher = this.batchers.get(sub.id);
    if (!batcher) {
      if (this.batchers.size >= MAX_SIGNERS) {
        for (const [id, idle] of this.batchers) if (idle.idle) this.batchers.delete(id);
      }
      batcher = new DeliveryBatcher<BatchItem, true | Failure>(
        (items) => {
          const latest = (items[items.length - 1] as BatchItem).sub;
          return this.postBatch(latest, items);
        },
        {
          maxItems: sub.maxEventsPerBatch ?? 1,
          maxWeight: MAX_BATCH_BYTES,
          maxInFlight: isBatched(sub) ? BATCHES_IN_FLIGHT : SINGLE_POSTS_IN_FLIGHT,
        },
        (item) => Buffer.byteLength(item.body),
      );
      this.batchers.set(sub.id, batcher);
    }
    return batcher;
  }

  private markSlow(subscriptionId: string): void {
    if (this.slowUntil.size >= MAX_SIGNERS) this.slowUntil.clear();
    this.slowUntil.set(subscriptionId, this.clock.now() + SLOW_FOR_MS);
  }

  private noteLateDelivery(messageId: string): void {
    if (this.lateDelivered.size >= MAX_LATE_DELIVERIES) {
      this.lateDelivered.delete(this.lateDelivered.values().next().value as string);
    }
    this.lateDelivered.add(messageId);
  }

  /** One retry from the queue (`messageId`: the queue message's, to recognise a late success). */
  async retry(
    task: DeliveryTask,
    messageId?: string,
  ): Promise<'delivered' | 'scheduled' | 'dead-lettered' | 'dropped'> {
    if (messageId !== undefined && this.lateDelivered.delete(messageId)) return 'dropped'; // delivered late
    const doc = await this.store.read<SubscriptionDocument>(SUBSCRIPTIONS_PK, task.subscriptionId);
    if (!doc) return 'dropped'; // unsubscribed meanwhile
    if (doc.body.status === 'disabled') {
      // Kept, not lost: after re-enabling, the owner can redeliver it from the dead letters.
      await this.deadLetter(task, 'the subscription is disabled');
      return 'dead-lettered';
    }
    const started = this.clock.now();
    const outcome = await this.attempt(doc.body, task);
    // A quick answer again: the subscription goes back to live first attempts.
    if (outcome === 'delivered' && this.clock.now() - started < LIVE_DEADLINE_MS)
      this.slowUntil.delete(doc.id);
    return outcome;
  }

  /** A subscription's dead letters, for its owner or an admin (404 for anyone else). */
  async deadLettersFor(viewer: Principal, subscriptionId: string, limit = 100): Promise<DeadLetter[]> {
    await this.visible(subscriptionId, viewer);
    return this.deadLetters(subscriptionId, limit);
  }

  /** Puts dead letters back on the queue, for the subscription's owner or an admin (404 for anyone else). */
  async redeliverFor(viewer: Principal, subscriptionId: string, ids?: readonly string[]): Promise<number> {
    await this.visible(subscriptionId, viewer);
    return this.redeliver(subscriptionId, ids);
  }

  async deadLetters(subscriptionId: string, limit = 100): Promise<DeadLetter[]> {
    const page = await this.store.query<DeadLetter>({
      pk: deadLetterPartition(subscriptionId),
      type: DEAD_LETTER_TYPE,
      limit,
    });
    return page.items.map((d) => d.body);
  }

  /** Puts dead letters (all, or the given ids) back on the retry queue as fresh deliveries. */
  async redeliver(subscriptionId: string, ids?: readonly string[]): Promise<number> {
    const letters = (await this.deadLetters(subscriptionId, 1000)).filter((d) => !ids || ids.includes(d.id));
    const now = this.clock.now();
    for (const letter of letters) {
      await this.schedule(
        { subscriptionId, event: letter.event, attempt: 1, firstAttemptAt: now },
        0,
        `redeliver-${now}`,
      );
      await this.store.delete(deadLetterPartition(subscriptionId), letter.id).catch((e: unknown) => {
        if (!isStoreError(e, 'not-found')) throw e;
      });
    }
    return letters.length;
  }

  private async allSubscriptions(): Promise<SubscriptionDocument[]> {
    const subs: SubscriptionDocument[] = [];
    let continuation: string | undefined;
    do {
      const page = await this.store.query<SubscriptionDocument>({
        pk: SUBSCRIPTIONS_PK,
        type: SUBSCRIPTION_TYPE,
        limit: 1000,
        continuation,
      });
      subs.push(...page.items.map((d) => d.body));
      continuation = page.continuation;
    } while (continuation);
    return subs;
  }

  /** The subscription's signing secret; one stored unsealed or under a rotated-out key is re-sealed. */
  private async signingSecret(sub: SubscriptionDocument): Promise<string> {
    const { plain, stale } = await this.sealer.open(sub.secret, sub.id);
    if (stale) {
      const sealed = await this.sealer.seal(plain, sub.id);
      await this.store
        .upsert(SUBSCRIPTIONS_PK, { id: sub.id, type: SUBSCRIPTION_TYPE, body: { ...sub, secret: sealed } })
        .then(() => (sub.secret = sealed))
        .catch((error: unknown) =>
          this.log(`webhook ${sub.id}: re-sealing its secret failed: ${String(error)}`),
        );
    }
    return plain;
  }

  /**
   * The subscription's signer, kept per subscription while its stored (sealed) secret is the same:
   * opening the secret and building a Webhook (which decodes it) once, not on every delivery.
   */
  private async signer(sub: SubscriptionDocument): Promise<Webhook> {
    const known = this.signers.get(sub.id);
    if (known && known.secret === sub.secret) return known.webhook;
    const webhook = new Webhook(await this.signingSecret(sub));
    if (this.signers.size >= MAX_SIGNERS) this.signers.clear();
    this.signers.set(sub.id, { secret: sub.secret, webhook });
    return webhook;
  }

  private async attempt(
    sub: SubscriptionDocument,
    task: DeliveryTask,
    body = JSON.stringify(task.event),
  ): Promise<'delivered' | 'scheduled' | 'dead-lettered'> {
    const outcome = await this.post(sub, task, body);
    return outcome === true ? 'delivered' : this.afterFailure(sub, task, outcome);
  }

  /**
   * One signed POST: true when the endpoint answered 2xx, else what went wrong. Every attempt is
   * recorded in the attempt log and moves the subscription's failure clock.
   */
  private post(sub: SubscriptionDocument, task: DeliveryTask, body: string): Promise<true | Failure> {
    return this.postBatch(sub, [{ task, body }]);
  }

  /**
   * One signed POST of one event, or for a batched subscription of a JSON array of events; each
   * event's attempt is recorded (with the batch's size), the failure clock moves once.
   */
  private async postBatch(sub: SubscriptionDocument, events: readonly Outgoing[]): Promise<true | Failure> {
    const started = this.clock.now();
    const outcome = await this.send(sub, events);
    const at = new Date(started).toISOString();
    const durationMs = Math.max(0, this.clock.now() - started);
    const batchSize = isBatched(sub) ? { batchSize: events.length } : {};
    const entries = events.map(({ task }): DeliveryAttempt => ({
      at,
      eventId: task.event.id,
      status: outcome.status,
      ...(outcome.result === true ? {} : { error: outcome.result.failure }),
      durationMs,
      attempt: task.attempt,
      ...batchSize,
    }));
    // Written with the turn's other attempts (a batch's as one record); the delivery slot does not wait.
    void this.attempts.record(sub.id, entries.length === 1 ? (entries[0] as DeliveryAttempt) : entries);
    await this.moveFailureClock(sub, outcome.result === true ? undefined : outcome.result.failure).catch(
      (error: unknown) => this.log(`webhook ${sub.id}: updating its failure clock failed: ${String(error)}`),
    );
    return outcome.result;
  }

  private async send(
    sub: SubscriptionDocument,
    events: readonly Outgoing[],
  ): Promise<{ result: true | Failure; status: number | null }> {
    const timestamp = new Date(this.clock.now());
    const batched = isBatched(sub);
    const first = events[0] as Outgoing;
    const body = batched ? `[${events.map((e) => e.body).join(',')}]` : first.body;
    const id = batched ? batchMessageId(events.map((e) => e.task.event.id)) : first.task.event.id;
    const headers = {
      'content-type': batched ? CLOUDEVENTS_BATCH_CONTENT_TYPE : CLOUDEVENTS_CONTENT_TYPE,
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': (await this.signer(sub)).sign(id, timestamp, body),
      'user-agent': 'portal-bridge-webhooks',
    };
    try {
      const { status } = await this.transport.post(sub.url, headers, body, this.options.timeoutMs);
      if (status >= 200 && status < 300) return { result: true, status };
      return { result: { failure: `HTTP ${status}`, permanent: false }, status };
    } catch (error) {
      return {
        result: {
          failure: error instanceof WebhookTransportError ? `${error.kind}: ${error.message}` : String(error),
          // A refused address is the policy speaking, not the network: retrying cannot help.
          permanent: error instanceof WebhookTransportError && error.kind === 'refused-address',
        },
        status: null,
      };
    }
  }

  /**
   * The failure clock: the first failure after a success starts it, a success clears it, and a
   * failure when it has run BRIDGE_WEBHOOK_DISABLE_AFTER_SECONDS disables the subscription. It is
   * written only on those transitions (a success reads the possibly cached document, at most
   * SUBSCRIPTION_CACHE_MS old, so a steady flow of successes costs no writes).
   */
  private async moveFailureClock(sub: SubscriptionDocument, failure: string | undefined): Promise<void> {
    if (failure === undefined && sub.failingSince === undefined) return;
    const doc = await this.store.read<SubscriptionDocument>(SUBSCRIPTIONS_PK, sub.id);
    if (!doc || doc.body.status === 'disabled') return;
    const now = this.clock.now();
    let next: SubscriptionDocument;
    if (failure === undefined) {
      if (doc.body.failingSince === undefined) return;
      const { failingSince: _since, ...rest } = doc.body;
      next = rest;
    } else if (doc.body.failingSince === undefined) {
      next = { ...doc.body, failingSince: new Date(now).toISOString() };
    } else {
      const failingMs = now - Date.parse(doc.body.failingSince);
      const limitSeconds = this.options.disableAfterSeconds;
      if (limitSeconds === 0 || failingMs < limitSeconds * 1000) return;
      await this.disable(doc.body, doc.etag, failure, now);
      return;
    }
    await this.store
      .upsert(SUBSCRIPTIONS_PK, { id: sub.id, type: SUBSCRIPTION_TYPE, body: next }, { ifMatch: doc.etag })
      .catch((error: unknown) => {
        // Another attempt moved the clock first: its change stands.
        if (!isStoreError(error, 'precondition-failed') && !isStoreError(error, 'not-found')) throw error;
      });
    this.cached = undefined;
  }

  /** Disables the subscription and, in the same batch, writes its owner's subscription_disabled event. */
  private async disable(
    doc: SubscriptionDocument,
    etag: string,
    failure: string,
    now: number,
  ): Promise<void> {
    const disabledAt = new Date(now).toISOString();
    const reason =
      `deliveries have failed continuously since ${doc.failingSince ?? disabledAt} ` +
      `(BRIDGE_WEBHOOK_DISABLE_AFTER_SECONDS=${this.options.disableAfterSeconds}); last error: ${failure}`;
    const count = (doc.disabledCount ?? 0) + 1;
    const next: SubscriptionDocument = {
      ...doc,
      status: 'disabled',
      disabledAt,
      disabledReason: reason,
      disabledCount: count,
    };
    const userId = endUserOfOwner(doc.createdBy);
    const event: PendingEvent = {
      specversion: '1.0',
      id: `subscription_disabled:${doc.id}:${count}`,
      source: `${WEBHOOK_EVENT_SOURCE}${doc.id}`,
      type: 'subscription_disabled',
      // An end user's own subscription: the event is about them, so it reaches them (access-policy).
      ...(userId !== undefined ? { subject: userId } : {}),
      time: disabledAt,
      datacontenttype: 'application/json',
      data: {
        subscriptionId: doc.id,
        owner: doc.createdBy,
        disabledAt,
        reason,
        failingSince: doc.failingSince ?? disabledAt,
      },
    };
    const eventOp = outboxOperation(`${doc.id}:${count}`, event, now, this.eventLimits);
    try {
      const results = await this.store.batch(SUBSCRIPTIONS_PK, [
        { op: 'upsert', id: doc.id, type: SUBSCRIPTION_TYPE, body: next, ifMatch: etag },
        eventOp,
      ]);
      const item = toOutboxItem(SUBSCRIPTIONS_PK, eventOp, results[1]?.seq);
      if (item) this.onCommit?.([item]);
      this.log(`webhook ${doc.id}: disabled (${reason})`);
    } catch (error) {
      // Disabled (or changed) meanwhile by another attempt: that one wrote the event.
      if (!isStoreError(error, 'precondition-failed') && !isStoreError(error, 'conflict')) throw error;
    } finally {
      this.cached = undefined;
    }
  }

  /** Re-enables a subscription (owner or admin; 404 for anyone else) and resets its failure clock. */
  async enable(viewer: Principal, id: string): Promise<WebhookSubscription> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await this.store.read<SubscriptionDocument>(SUBSCRIPTIONS_PK, id);
      if (!doc || !mayManageOwned(viewer, doc.body.createdBy))
        throw new ServiceError('not-found', `No subscription ${id}.`);
      const { failingSince: _since, disabledAt: _at, disabledReason: _reason, ...rest } = doc.body;
      const next: SubscriptionDocument = { ...rest, status: 'active' };
      try {
        await this.store.upsert(
          SUBSCRIPTIONS_PK,
          { id, type: SUBSCRIPTION_TYPE, body: next },
          { ifMatch: doc.etag },
        );
        this.cached = undefined;
        this.slowUntil.delete(id);
        return publicView(next);
      } catch (error) {
        if (!isStoreError(error, 'precondition-failed')) throw error;
      }
    }
    throw new ServiceError('conflict', `Subscription ${id} keeps changing; try again.`);
  }

  /** The newest delivery attempts (newest first), for the owner or an admin (404 for anyone else). */
  async attemptsFor(viewer: Principal, id: string, limit: number): Promise<DeliveryAttempt[]> {
    await this.visible(id, viewer);
    return this.attempts.newest(id, limit);
  }

  /**
   * Re-sends, as fresh deliveries through the retry queue, every event committed since `since`
   * that the subscription matches (its types and, for an end user's, events about that user).
   * `since` must lie within the event retention; more than MAX_RECOVER_EVENTS matching events is
   * a 422 and nothing is sent.
   */
  async recoverFor(viewer: Principal, id: string, since: string): Promise<number> {
    const doc = await this.store.read<SubscriptionDocument>(SUBSCRIPTIONS_PK, id);
    if (!doc || !mayManageOwned(viewer, doc.body.createdBy))
      throw new ServiceError('not-found', `No subscription ${id}.`);
    const sub = doc.body;
    if (sub.status === 'disabled')
      throw new ServiceError('conflict', `Subscription ${id} is disabled; enable it first.`);
    const now = this.clock.now();
    const sinceMs = Date.parse(since);
    const oldest = now - this.options.retentionSeconds * 1000;
    if (!Number.isFinite(sinceMs) || sinceMs < oldest || sinceMs > now) {
      const message = `since must be a time within the event retention (${new Date(oldest).toISOString()} to now)`;
      throw new ServiceError('validation', `${message}.`, [{ path: '/since', message }]);
    }
    const events = await this.eventsSince(sub, sinceMs);
    for (let i = 0; i < events.length; i += RECOVER_SEND_BATCH) {
      const batch = events.slice(i, i + RECOVER_SEND_BATCH).map((event) => {
        const task: DeliveryTask = { subscriptionId: id, event, attempt: 1, firstAttemptAt: now };
        return this.retryMessage(task, 0, `recover-${now}`);
      });
      await this.sender.send(WEBHOOK_RETRY_QUEUE, batch);
    }
    return events.length;
  }

  /** The subscription's events committed at or after `sinceMs`, in commit order (bounded, see recoverFor). */
  private async eventsSince(sub: SubscriptionDocument, sinceMs: number): Promise<BridgeCloudEvent[]> {
    const visible = eventFilterForOwner(sub.createdBy);
    const found: { event: BridgeCloudEvent; committedAt: number }[] = [];
    let scanned = 0;
    let continuation: string | undefined;
    do {
      const page = await this.store.query<EventDocumentBody>({
        type: EVENT_DOC_TYPE,
        // Unordered (an ordered query sorts by a text field only): sorted below, once bounded.
        conditions: [{ path: ['committedAt'], op: 'gte', value: sinceMs }],
        limit: 1000,
        ...(continuation ? { continuation } : {}),
      });
      for (const doc of page.items) {
        const event = withSequence(doc.body.event, doc.seq ?? 0);
        if (!sub.eventTypes.includes(event.type) || !visible.matches(event)) continue;
        found.push({ event, committedAt: doc.body.committedAt });
        if (found.length > MAX_RECOVER_EVENTS) {
          throw new ServiceError(
            'unprocessable',
            `More than ${MAX_RECOVER_EVENTS} matching events were committed since then; choose a later since. Nothing was re-sent.`,
          );
        }
      }
      scanned += page.items.length;
      if (scanned >= MAX_RECOVER_SCAN && page.continuation) {
        throw new ServiceError(
          'unprocessable',
          `More than ${MAX_RECOVER_SCAN} events were committed since then; choose a later since. Nothing was re-sent.`,
        );
      }
      continuation = page.continuation;
    } while (continuation);
    // Commit order: by commit time, then by position where times tie.
    return found
      .sort(
        (a, b) =>
          a.committedAt - b.committedAt || Number(a.event.sequence ?? 0) - Number(b.event.sequence ?? 0),
      )
      .map((f) => f.event);
  }

  /** A failed attempt: the next one scheduled with backoff, or a dead letter past the limits. */
  private async afterFailure(
    sub: SubscriptionDocument,
    task: DeliveryTask,
    { failure, permanent }: Failure,
  ): Promise<'scheduled' | 'dead-lettered'> {
    const ageMs = this.clock.now() - task.firstAttemptAt;
    if (permanent || task.attempt >= this.options.maxAttempts || ageMs >= this.options.maxAgeSeconds * 1000) {
      await this.deadLetter(task, failure);
      this.log(
        `webhook ${sub.id}: event ${task.event.id} dead-lettered after ${task.attempt} attempts (${failure})`,
      );
      return 'dead-lettered';
    }
    const delay = backoffDelayMs(
      task.attempt,
      this.options.backoffBaseMs,
      MAX_BACKOFF_MS,
      randomInt(0, 1_000_000) / 1_000_000,
    );
    await this.schedule({ ...task, attempt: task.attempt + 1 }, delay, 'retry');
    this.log(
      `webhook ${sub.id}: event ${task.event.id} attempt ${task.attempt} failed (${failure}); retry in ${delay} ms`,
    );
    return 'scheduled';
  }

  private async schedule(task: DeliveryTask, delayMs: number, kind: string): Promise<void> {
    await this.sender.send(WEBHOOK_RETRY_QUEUE, [this.retryMessage(task, delayMs, kind)]);
  }

  private retryMessage(task: DeliveryTask, delayMs: number, kind: string): OutgoingMessage {
    return {
      // Deterministic per (event, subscription, attempt): a repeated fan-out schedules each retry
      // once (hashed when longer than the bus accepts).
      messageId: retryMessageId(task, kind),
      applicationProperties: { kind },
      body: task,
      subject: 'webhook_delivery',
      contentType: 'application/json',
      ...(delayMs > 0 ? { scheduledEnqueueTimeUtc: new Date(this.clock.now() + delayMs) } : {}),
    };
  }

  private async deadLetter(task: DeliveryTask, lastError: string): Promise<void> {
    const letter: DeadLetter = {
      id: deadLetterId(task.event.id),
      subscriptionId: task.subscriptionId,
      event: task.event,
      attempts: task.attempt,
      firstAttemptAt: new Date(task.firstAttemptAt).toISOString(),
      lastAttemptAt: new Date(this.clock.now()).toISOString(),
      lastError,
    };
    await this.store.upsert(deadLetterPartition(task.subscriptionId), {
      id: letter.id,
      type: DEAD_LETTER_TYPE,
      body: letter,
    });
  }
}
