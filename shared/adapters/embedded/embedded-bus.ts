/**
 * EmbeddedBus: the local host's durable stand-in for Service Bus, on better-sqlite3, with Service
 * Bus semantics for the entities of a bus topology (shared/domain/bus-topology.ts):
 *
 * - `send` to a topic fans each message out to the subscriptions whose filter accepts it; to a
 *   queue it stores it once. Every message of one call commits in one transaction before the
 *   promise resolves (all or nothing; an acknowledged send survives kill -9).
 * - Duplicate detection on `messageId` per queue or topic inside the topology's window; a
 *   duplicate is dropped silently. `scheduledEnqueueTimeUtc` hides a message until then.
 * - Peek-lock receiving from a queue or `<topic>/Subscriptions/<name>`: `receive` locks messages in
 *   sequence order; `complete`, `abandon`, `deadLetter` and `renewLock` need a lock that is still
 *   held (else `MessageLockLost`); an expired lock makes the message receivable again. Every
 *   receive counts a delivery; a message past its entity's `maxDeliveryCount` goes to the
 *   dead-letter sub-queue with reason `MaxDeliveryCountExceeded` instead of being delivered.
 * - Sequence numbers are per queue or topic and increase monotonically (a subscription's copy
 *   carries its topic's number, so a subscription's numbers may have gaps, as on Service Bus).
 * - `onAvailable` pushes "there is something to receive" to in-process listeners (coalesced, on a
 *   later turn of the event loop) after a send or an abandon makes messages visible, and when a
 *   scheduled, delayed or lock-expired message becomes visible (one unref'd timer).
 * - Several processes may share one file: every piece of state (messages, locks, sequence numbers,
 *   duplicate detection history) is in SQLite, and writers are serialised by BEGIN IMMEDIATE. Only
 *   the notifications are per process: a listener hears about its own process's sends and
 *   settlements, about what is already waiting when it subscribes, and about future visibility
 *   times its process wrote or saw when it subscribed.
 */
import Database from 'better-sqlite3';
import { databaseOpenFailure, preparePrivateDatabase } from './private-files';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  subscriptionAccepts,
  type QueueSpec,
  type SubscriptionSpec,
  type TopicSpec,
} from '../../domain/bus-topology';
import { systemClock, type Clock } from '../../ports/clock';
import { GroupCommit, isSqliteError } from './group-commit';
import type { MessageSender, OutgoingMessage, ReceivedMessage } from '../../ports/message-sender';
import {
  BASE_SCHEMA,
  FORGET_CHUNK,
  prepareReceivable,
  prepareSendable,
  prepareShared,
  receivableSchema,
  sendableSchema,
  type DeadLetterRow,
  type MessageRow,
  type ReceivableStatements,
  type SendableStatements,
  type SharedStatements,
} from './embedded-bus-schema';

/** The shape of BUS_TOPOLOGY: the entities the bus serves, and the duplicate detection window. */
export interface BusTopology {
  topics: readonly TopicSpec[];
  queues: readonly QueueSpec[];
  /** 0 turns duplicate detection off. */
  duplicateDetectionWindowMs: number;
}

export interface EmbeddedBusOptions {
  /** Database file path, or ':memory:'. */
  path: string;
  topology: BusTopology;
  /** Source of enqueue, visibility and lock times; injectable so tests can move time. */
  clock?: Clock;
  /** 'normal': an acknowledged send survives a process crash; 'full': it also survives power loss. */
  durability?: 'normal' | 'full';
  /** Peek-lock duration when `receive` does not say; default 30000 (Service Bus's default). */
  lockDurationMs?: number;
  /** Largest message (body plus properties, UTF-8); default 256 KiB (Service Bus Standard). */
  maxMessageSizeBytes?: number;
  /** How long a write waits for another process's write lock before failing with ServiceBusy. */
  busyTimeoutMs?: number;
}

/** A peek-locked message, as `receive` returns it. */
export interface LockedMessage {
  /** Opaque; settles the message while the lock is held. */
  lockToken: string;
  entityPath: string;
  sequenceNumber: number;
  lockedUntil: Date;
  message: ReceivedMessage;
}

/** A message in an entity's dead-letter sub-queue. */
export interface DeadLetteredMessage {
  entityPath: string;
  sequenceNumber: number;
  deadLetterReason: string;
  deadLetterErrorDescription: string;
  deadLetteredAt: Date;
  message: ReceivedMessage;
}

export interface ReceiveOptions {
  maxMessages: number;
  lockDurationMs?: number;
}

/** The subset of @azure/service-bus's ServiceBusErrorCode the embedded bus produces. */
export type EmbeddedBusErrorCode =
  | 'MessagingEntityNotFound'
  | 'MessageLockLost'
  | 'MessageNotFound'
  | 'MessageSizeExceeded'
  | 'ServiceBusy'
  | 'GeneralError';

/** Shaped like @azure/service-bus's ServiceBusError (`code`, `retryable`). */
export class EmbeddedBusError extends Error {
  override readonly name = 'ServiceBusError';
  constructor(
    readonly code: EmbeddedBusErrorCode,
    message: string,
    readonly retryable = code === 'ServiceBusy',
  ) {
    super(message);
  }
}

export function isEmbeddedBusError(error: unknown, code?: EmbeddedBusErrorCode): error is EmbeddedBusError {
  return error instanceof EmbeddedBusError && (code === undefined || error.code === code);
}

/** The receivable path of a topic subscription, as Service Bus spells it. */
export function subscriptionPath(topic: string, subscription: string): string {
  return `${topic}/Subscriptions/${subscription}`;
}

export const MAX_DELIVERY_COUNT_EXCEEDED = 'MaxDeliveryCountExceeded';
const DEFAULT_LOCK_DURATION_MS = 30_000;
const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;
const MAX_MESSAGE_ID_LENGTH = 128;
const MAX_RECEIVE = 5000;
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** ~40 MB of WAL between checkpoints (see the constructor). */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;
const LOCK_LOST =
  'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.';

interface Entity {
  path: string;
  id: number;
  kind: 'queue' | 'topic' | 'subscription';
  /** 0 for a topic (it is not receivable). */
  maxDeliveryCount: number;
  /** A topic's subscriptions, with their filters. */
  subscriptions: { entity: Receivable; spec: SubscriptionSpec }[];
  /** Where sequence numbers come from: itself (queue, topic) or its topic (subscription). */
  root: Sendable | undefined;
  /** Duplicate detection (queues, topics). */
  sendable: SendableStatements | undefined;
  /** Messages and dead letters (queues, subscriptions). */
  receivable: ReceivableStatements | undefined;
  /** Duplicate-detection buckets below this one have been forgotten (by this process). */
  forgottenBelow: number;
}

type Sendable = Entity & { sendable: SendableStatements; root: Sendable };
type Receivable = Entity & { receivable: ReceivableStatements; root: Sendable };

/** A validated message, serialised before the write lock is taken. */
interface PreparedMessage {
  messageId: string;
  body: string;
  subject: string | null;
  contentType: string | null;
  correlationId: string | null;
  props: string | null;
  scheduledAt: number | null;
  /** Where the copies go: the queue itself, or each accepting subscription. */
  targets: Receivable[];
}

interface SendOutcome {
  visibleNow: Set<Receivable>;
  later: Map<Receivable, number>;
}

interface Lock {
  entity: Receivable;
  seq: number;
  token: string;
}

export class EmbeddedBus implements MessageSender {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly shared: SharedStatements;
  private readonly entities = new Map<string, Entity>();
  private readonly byId = new Map<number, Entity>();
  private readonly windowMs: number;
  private readonly lockDurationMs: number;
  private readonly maxMessageSize: number;

  private readonly listeners = new Map<Receivable, Set<() => void>>();
  private readonly pending = new Set<Receivable>();
  private flushHandle: NodeJS.Immediate | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  /** Visibility up to this time has been announced to listeners. */
  private announcedUpTo: number;

  /** Writes of one event-loop turn share one commit; see GroupCommit. */
  private readonly group: GroupCommit;
  private readonly sendTx: (entity: Sendable, messages: PreparedMessage[]) => SendOutcome;
  private readonly receiveTx: (
    entity: Receivable,
    max: number,
    lockMs: number,
  ) => { now: number; locked: { row: MessageRow; token: string }[] };
  private readonly deadLetterTx: (lock: Lock, reason: string, description: string) => void;
  private readonly resubmitTx: (entity: Receivable, seq: number) => number;

  constructor(options: EmbeddedBusOptions) {
    this.clock = options.clock ?? systemClock;
    this.windowMs = nonNegativeInteger(
      options.topology.duplicateDetectionWindowMs,
      'topology.duplicateDetectionWindowMs',
    );
    this.lockDurationMs = positiveInteger(
      options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
      'lockDurationMs',
    );
    this.maxMessageSize = positiveInteger(
      options.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE,
      'maxMessageSizeBytes',
    );
    const busyTimeout = nonNegativeInteger(options.busyTimeoutMs ?? 5000, 'busyTimeoutMs');
    const topology = validateTopology(options.topology);

    if (options.path !== ':memory:') preparePrivateDatabase(options.path);
    try {
      this.db = new Database(options.path);
    } catch (error) {
      throw databaseOpenFailure(options.path, error) ?? error;
    }
    try {
      // The busy timeout comes first: switching to WAL itself needs a lock another process may hold.
      this.db.pragma(`busy_timeout = ${busyTimeout}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      // Hot pages (each table's tail) are rewritten by every send; checkpointing less often copies
      // each of them once per checkpoint instead of many times (the WAL file settles at ~40 MB).
      this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      this.db.transaction(() => this.db.exec(BASE_SCHEMA)).immediate();
      this.shared = prepareShared(this.db);
      this.db.transaction(() => this.createEntities(topology)).immediate();
    } catch (error) {
      this.db.close();
      throw databaseOpenFailure(options.path, error) ?? toBusError(error);
    }
    this.announcedUpTo = this.clock.now();

    this.group = new GroupCommit(this.db, toBusError);
    this.sendTx = this.db.transaction((entity: Sendable, messages: PreparedMessage[]) =>
      this.store(entity, messages),
    ).immediate;
    this.receiveTx = this.db.transaction((entity: Receivable, max: number, lockMs: number) =>
      this.lockVisible(entity, max, lockMs),
    ).immediate;
    this.deadLetterTx = this.db.transaction(
      ({ entity, seq, token }: Lock, reason: string, description: string) => {
        const now = this.clock.now();
        const statements = entity.receivable;
        if (statements.isLocked.get(seq, token, now) === undefined) {
          throw new EmbeddedBusError('MessageLockLost', LOCK_LOST);
        }
        statements.deadLetter.run(reason, description, now, seq);
        statements.remove.run(seq);
      },
    ).immediate;
    this.resubmitTx = this.db.transaction((entity: Receivable, seq: number) => {
      const now = this.clock.now();
      this.shared.reserveSeq.run(1, entity.root.id);
      const newSeq = this.shared.lastSeq.get(entity.root.id) as number;
      if (entity.receivable.resubmit.run({ seq, newSeq, now }).changes === 0) {
        throw new EmbeddedBusError(
          'MessageNotFound',
          `no dead-lettered message ${seq} in ${entity.path}/$DeadLetterQueue`,
        );
      }
      entity.receivable.removeDeadLetter.run(seq);
      return newSeq;
    }).immediate;
  }

  /**
   * Sends to a queue or topic. Resolves once every message is committed (one transaction); a
   * message whose messageId the entity has seen inside the duplicate detection window is dropped.
   */
  async send(entityPath: string, messages: OutgoingMessage[]): Promise<void> {
    const entity = this.entity(entityPath);
    if (!isSendable(entity)) {
      throw new EmbeddedBusError(
        'MessagingEntityNotFound',
        `cannot send to subscription ${entityPath}; send to its topic`,
      );
    }
    if (!Array.isArray(messages)) throw new TypeError('messages must be an array');
    const prepared = messages.map((message, index) => this.prepare(entity, message, index));
    if (prepared.length === 0) return;
    const outcome = await this.grouped(() => this.sendTx(entity, prepared));
    for (const target of outcome.visibleNow) this.announce(target);
    for (const [target, at] of outcome.later) if (this.listeners.has(target)) this.armWake(at);
  }

  /**
   * Peek-locks up to `maxMessages` visible messages of a queue or `<topic>/Subscriptions/<name>`,
   * in sequence order; each receive counts a delivery. Resolves to [] when none is visible.
   */
  async receive(entityPath: string, options: ReceiveOptions): Promise<LockedMessage[]> {
    const entity = this.receivable(entityPath);
    const max = positiveInteger(options?.maxMessages, 'maxMessages');
    if (max > MAX_RECEIVE) throw new RangeError(`maxMessages must be at most ${MAX_RECEIVE}`);
    const lockMs = positiveInteger(options.lockDurationMs ?? this.lockDurationMs, 'lockDurationMs');
    const { now, locked } = await this.grouped(() => this.receiveTx(entity, max, lockMs));
    if (locked.length === 0) return [];
    if (this.listeners.has(entity)) this.armWake(now + lockMs);
    const lockedUntil = now + lockMs;
    return locked.map(({ row, token }) => ({
      lockToken: token,
      entityPath: entity.path,
      sequenceNumber: row.seq,
      lockedUntil: new Date(lockedUntil),
      message: toReceived(row, row.delivery_count + 1),
    }));
  }

  /** Settles a locked message: it is gone for good. */
  async complete(lockToken: string): Promise<void> {
    const { entity, seq, token } = this.lock(lockToken);
    const changes = await this.grouped(
      () => entity.receivable.complete.run(seq, token, this.clock.now()).changes,
    );
    if (changes === 0) throw new EmbeddedBusError('MessageLockLost', LOCK_LOST);
  }

  /** Releases a locked message: receivable again now, or after `retryAfterMs`. */
  async abandon(lockToken: string, options: { retryAfterMs?: number } = {}): Promise<void> {
    const { entity, seq, token } = this.lock(lockToken);
    const delay = nonNegativeInteger(options.retryAfterMs ?? 0, 'retryAfterMs');
    const now = this.guard(() => this.clock.now());
    const changes = await this.grouped(
      () => entity.receivable.release.run(now + delay, seq, token, now).changes,
    );
    if (changes === 0) throw new EmbeddedBusError('MessageLockLost', LOCK_LOST);
    if (delay === 0) this.announce(entity);
    else if (this.listeners.has(entity)) this.armWake(now + delay);
  }

  /** Moves a locked message to its entity's dead-letter sub-queue. */
  async deadLetter(lockToken: string, options: { reason: string; description?: string }): Promise<void> {
    const lock = this.lock(lockToken);
    if (typeof options?.reason !== 'string') throw new TypeError('reason must be a string');
    const description = options.description ?? '';
    if (typeof description !== 'string') throw new TypeError('description must be a string');
    await this.grouped(() => this.deadLetterTx(lock, options.reason, description));
  }

  /** Extends a held lock to `lockDurationMs` from now; resolves to the new expiry. */
  async renewLock(lockToken: string, options: { lockDurationMs?: number } = {}): Promise<Date> {
    const { entity, seq, token } = this.lock(lockToken);
    const lockMs = positiveInteger(options.lockDurationMs ?? this.lockDurationMs, 'lockDurationMs');
    const now = this.guard(() => this.clock.now());
    const changes = this.guard(() => entity.receivable.renew.run(now + lockMs, seq, token, now).changes);
    if (changes === 0) throw new EmbeddedBusError('MessageLockLost', LOCK_LOST);
    if (this.listeners.has(entity)) this.armWake(now + lockMs);
    return new Date(now + lockMs);
  }

  /** The dead-letter sub-queue's messages in sequence order, without locking them. */
  async peekDeadLetters(
    entityPath: string,
    options: { limit: number; fromSequenceNumber?: number },
  ): Promise<DeadLetteredMessage[]> {
    const entity = this.receivable(entityPath);
    const limit = positiveInteger(options?.limit, 'limit');
    const from = nonNegativeInteger(options.fromSequenceNumber ?? 0, 'fromSequenceNumber');
    const rows = this.guard(() => entity.receivable.peekDeadLetters.all(from, limit) as DeadLetterRow[]);
    return rows.map((row) => ({
      entityPath: entity.path,
      sequenceNumber: row.seq,
      deadLetterReason: row.reason,
      deadLetterErrorDescription: row.description,
      deadLetteredAt: new Date(row.dead_lettered_at),
      message: toReceived(row, row.delivery_count),
    }));
  }

  /**
   * Moves a dead-lettered message back to its entity as a fresh message (new sequence number,
   * delivery count 0, visible now); resolves to the new sequence number.
   */
  async resubmitDeadLetter(entityPath: string, sequenceNumber: number): Promise<number> {
    const entity = this.receivable(entityPath);
    const seq = positiveInteger(sequenceNumber, 'sequenceNumber');
    const newSeq = this.guard(() => this.resubmitTx(entity, seq));
    this.announce(entity);
    return newSeq;
  }

  /** Messages enqueued in the entity (visible or locked), like Service Bus's activeMessageCount. */
  async countActive(entityPath: string): Promise<number> {
    const entity = this.receivable(entityPath);
    return this.guard(() => entity.receivable.countEnqueued.get(this.clock.now()) as number);
  }

  /** Scheduled messages whose time has not come yet (scheduledMessageCount). */
  async countScheduled(entityPath: string): Promise<number> {
    const entity = this.receivable(entityPath);
    return this.guard(() => entity.receivable.countScheduled.get(this.clock.now()) as number);
  }

  async countDeadLetters(entityPath: string): Promise<number> {
    const entity = this.receivable(entityPath);
    return this.guard(() => entity.receivable.countDeadLetters.get() as number);
  }

  /**
   * When the entity next has a receivable message (epoch ms; at or before now: already), or
   * undefined when it holds none at all. A locked message counts at its lock's expiry.
   */
  async nextVisibleAt(entityPath: string): Promise<number | undefined> {
    const entity = this.receivable(entityPath);
    const at = this.guard(() => entity.receivable.earliestVisible.get() as number | null);
    return at ?? undefined;
  }

  /**
   * Calls `listener` (on a later turn of the event loop, once per turn however many messages
   * arrived) whenever messages become receivable in the entity: after a send, abandon or resubmit
   * in this process, and when a scheduled, delayed or lock-expired message's time comes. Also
   * called soon after subscribing if messages are receivable already. Returns the unsubscribe
   * function.
   */
  onAvailable(entityPath: string, listener: () => void): () => void {
    const entity = this.receivable(entityPath);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let set = this.listeners.get(entity);
    if (!set) {
      set = new Set();
      this.listeners.set(entity, set);
    }
    const own = () => listener();
    set.add(own);
    this.guard(() => {
      const now = this.clock.now();
      if (entity.receivable.anyVisible.get(now) !== undefined) this.announce(entity);
      const next = entity.receivable.nextVisibleAfter.get(now) as number | null;
      if (next !== null) this.armWake(next);
    });
    return () => {
      const current = this.listeners.get(entity);
      if (!current?.delete(own)) return;
      if (current.size === 0) this.listeners.delete(entity);
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.group.commit();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.flushHandle) clearImmediate(this.flushHandle);
    this.wakeTimer = undefined;
    this.flushHandle = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
    this.listeners.clear();
    this.pending.clear();
    if (this.db.open) this.db.close();
  }

  // --- sending ---------------------------------------------------------------------------------

  private prepare(entity: Sendable, message: OutgoingMessage, index: number): PreparedMessage {
    const where = `messages[${index}]`;
    if (typeof message !== 'object' || message === null) throw new TypeError(`${where} must be an object`);
    const { messageId } = message;
    if (typeof messageId !== 'string' || messageId === '' || messageId.length > MAX_MESSAGE_ID_LENGTH) {
      throw new TypeError(`${where}.messageId must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters`);
    }
    const body = serialise(message.body, `${where}.body`);
    const properties = message.applicationProperties ?? {};
    const props = serialiseProperties(properties, `${where}.applicationProperties`);
    let scheduledAt: number | null = null;
    if (message.scheduledEnqueueTimeUtc !== undefined) {
      const time = message.scheduledEnqueueTimeUtc;
      if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
        throw new TypeError(`${where}.scheduledEnqueueTimeUtc must be a valid Date`);
      }
      scheduledAt = time.getTime();
    }
    const prepared: PreparedMessage = {
      messageId,
      body,
      subject: optionalString(message.subject, `${where}.subject`),
      contentType: optionalString(message.contentType, `${where}.contentType`),
      correlationId: optionalString(message.correlationId, `${where}.correlationId`),
      props,
      scheduledAt,
      targets: isReceivable(entity)
        ? [entity]
        : entity.subscriptions
            .filter((sub) => subscriptionAccepts(sub.spec, properties))
            .map((sub) => sub.entity),
    };
    // A UTF-16 length bounds the UTF-8 size within a factor of 3: most messages skip the count.
    const approx = body.length + (props?.length ?? 0) + messageId.length;
    if (approx * 3 > this.maxMessageSize) {
      const size =
        Buffer.byteLength(body) +
        Buffer.byteLength(props ?? '') +
        Buffer.byteLength(messageId) +
        Buffer.byteLength(prepared.subject ?? '') +
        Buffer.byteLength(prepared.contentType ?? '') +
        Buffer.byteLength(prepared.correlationId ?? '');
      if (size > this.maxMessageSize) {
        throw new EmbeddedBusError(
          'MessageSizeExceeded',
          `${where} is ${size} bytes; ${entity.path} accepts at most ${this.maxMessageSize}`,
        );
      }
    }
    return prepared;
  }

  /** Inside the send transaction: duplicate detection, sequence numbers, one row per copy. */
  private store(entity: Sendable, messages: PreparedMessage[]): SendOutcome {
    const now = this.clock.now();
    let accepted = messages;
    if (this.windowMs > 0) {
      const seen = entity.sendable;
      const bucket = Math.floor(now / this.windowMs);
      const cutoff = now - this.windowMs;
      accepted = messages.filter((message) => {
        const id = message.messageId;
        if (
          seen.seen.get(bucket, id, cutoff) !== undefined ||
          seen.seen.get(bucket - 1, id, cutoff) !== undefined
        ) {
          return false;
        }
        seen.markSeen.run(bucket, message.messageId, now);
        return true;
      });
      // Buckets older than the previous one hold nothing inside the window: each send forgets a
      // chunk of them until none is left.
      if (
        entity.forgottenBelow < bucket - 1 &&
        seen.forgetBefore.run({ below: bucket - 1 }).changes < FORGET_CHUNK
      ) {
        entity.forgottenBelow = bucket - 1;
      }
    }
    const outcome: SendOutcome = { visibleNow: new Set(), later: new Map() };
    if (accepted.length === 0) return outcome;
    this.shared.reserveSeq.run(accepted.length, entity.id);
    let seq = (this.shared.lastSeq.get(entity.id) as number) - accepted.length + 1;
    for (const message of accepted) {
      const visibleAt = message.scheduledAt !== null && message.scheduledAt > now ? message.scheduledAt : now;
      for (const target of message.targets) {
        target.receivable.insert.run(
          seq,
          message.messageId,
          message.body,
          message.subject,
          message.contentType,
          message.correlationId,
          message.props,
          visibleAt,
          visibleAt,
        );
        if (visibleAt <= now) {
          outcome.visibleNow.add(target);
        } else {
          const earliest = outcome.later.get(target);
          if (earliest === undefined || visibleAt < earliest) outcome.later.set(target, visibleAt);
        }
      }
      seq++;
    }
    return outcome;
  }

  // --- receiving -------------------------------------------------------------------------------

  /** Inside the receive transaction: lock visible messages, dead-lettering exhausted ones. */
  private lockVisible(entity: Receivable, max: number, lockMs: number) {
    const now = this.clock.now();
    const statements = entity.receivable;
    const locked: { row: MessageRow; token: string }[] = [];
    for (;;) {
      const wanted = max - locked.length;
      const rows = statements.visible(wanted).all(now);
      for (const row of rows) {
        if (row.delivery_count >= entity.maxDeliveryCount) {
          const description = `Message could not be consumed after ${entity.maxDeliveryCount} delivery attempts.`;
          statements.deadLetter.run(MAX_DELIVERY_COUNT_EXCEEDED, description, now, row.seq);
          statements.remove.run(row.seq);
          continue;
        }
        const token = `${entity.id}.${row.seq}.${randomUUID()}`;
        statements.lock.run(token, now + lockMs, row.seq);
        locked.push({ row, token });
      }
      // Fewer rows than asked: that was all. Otherwise dead-lettered rows may have left room, so look
      // again (the rows just locked or removed are no longer visible).
      if (rows.length < wanted || locked.length >= max) return { now, locked };
    }
  }

  /** The entity and message a lock token names; a malformed or foreign token is a lost lock. */
  private lock(lockToken: string): Lock {
    const parts = typeof lockToken === 'string' ? lockToken.split('.') : [];
    const entity = parts.length === 3 ? this.byId.get(Number(parts[0])) : undefined;
    const seq = Number(parts[1]);
    if (!entity || !isReceivable(entity) || !Number.isSafeInteger(seq)) {
      throw new EmbeddedBusError('MessageLockLost', LOCK_LOST);
    }
    return { entity, seq, token: lockToken };
  }

  // --- notifications ---------------------------------------------------------------------------

  private announce(entity: Receivable): void {
    if (!this.listeners.has(entity)) return;
    this.pending.add(entity);
    this.flushHandle ??= setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushHandle = undefined;
    const entities = [...this.pending];
    this.pending.clear();
    let failure: { error: unknown } | undefined;
    for (const entity of entities) {
      for (const listener of [...(this.listeners.get(entity) ?? [])]) {
        try {
          listener();
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    // Every listener ran; a listener's own bug still surfaces (as an uncaught exception).
    if (failure) throw failure.error;
  };

  /** One timer, for the earliest future visibility any listened-to entity is waiting for. */
  private armWake(at: number): void {
    if (at >= this.wakeAt || !this.db.open) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    const delay = Math.min(Math.max(at - this.clock.now(), 0), MAX_TIMER_DELAY_MS);
    this.wakeTimer = setTimeout(this.wake, delay);
    this.wakeTimer.unref();
  }

  private readonly wake = (): void => {
    this.wakeTimer = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
    if (!this.db.open) return;
    try {
      const now = this.clock.now();
      const since = Math.min(this.announcedUpTo, now);
      this.announcedUpTo = now;
      let next = Number.POSITIVE_INFINITY;
      for (const entity of this.listeners.keys()) {
        const statements = entity.receivable;
        if (statements.becameVisible.get(since, now) !== undefined) this.announce(entity);
        const at = statements.nextVisibleAfter.get(now) as number | null;
        if (at !== null && at < next) next = at;
      }
      if (next !== Number.POSITIVE_INFINITY) this.armWake(next);
    } catch {
      // A transient read failure: look again shortly rather than never.
      this.armWake(this.clock.now() + 1000);
    }
  };

  // --- entities --------------------------------------------------------------------------------

  /** Inside the opening transaction: each entity's row and tables, then its statements. */
  private createEntities(topology: BusTopology): void {
    const add = (path: string, kind: Entity['kind'], maxDeliveryCount: number, root?: Sendable): Entity => {
      this.shared.addEntity.run(path);
      const id = this.shared.entityId.get(path) as number;
      if (kind !== 'topic') this.db.exec(receivableSchema(id));
      if (kind !== 'subscription') this.db.exec(sendableSchema(id));
      const entity: Entity = {
        path,
        id,
        kind,
        maxDeliveryCount,
        subscriptions: [],
        root,
        sendable: kind === 'subscription' ? undefined : prepareSendable(this.db, id),
        receivable: kind === 'topic' ? undefined : prepareReceivable(this.db, id),
        forgottenBelow: Number.NEGATIVE_INFINITY,
      };
      entity.root ??= entity as Sendable;
      this.entities.set(path, entity);
      this.byId.set(id, entity);
      return entity;
    };
    for (const queue of topology.queues) add(queue.name, 'queue', queue.maxDeliveryCount);
    for (const topicSpec of topology.topics) {
      const topic = add(topicSpec.name, 'topic', 0) as Sendable;
      for (const spec of topicSpec.subscriptions) {
        const path = subscriptionPath(topicSpec.name, spec.name);
        const entity = add(path, 'subscription', spec.maxDeliveryCount, topic) as Receivable;
        topic.subscriptions.push({ entity, spec });
      }
    }
  }

  private entity(entityPath: string): Entity {
    const entity = typeof entityPath === 'string' ? this.entities.get(normalisePath(entityPath)) : undefined;
    if (!entity) {
      throw new EmbeddedBusError(
        'MessagingEntityNotFound',
        `messaging entity ${JSON.stringify(entityPath)} does not exist`,
      );
    }
    return entity;
  }

  private receivable(entityPath: string): Receivable {
    const entity = this.entity(entityPath);
    if (!isReceivable(entity)) {
      throw new EmbeddedBusError(
        'MessagingEntityNotFound',
        `${entityPath} is a topic; receive from ${subscriptionPath(entityPath, '<subscription>')}`,
      );
    }
    return entity;
  }

  /** Runs fn, turning SQLite failures into EmbeddedBusErrors so callers never see driver errors. */
  /** A write in the current commit group (one COMMIT per event-loop turn); resolves after it. */
  private grouped<R>(write: () => R): Promise<R> {
    return this.guard(() => this.group.run(write));
  }

  private guard<R>(fn: () => R): R {
    if (!this.db.open) throw new EmbeddedBusError('GeneralError', 'the embedded bus is closed');
    try {
      return fn();
    } catch (error) {
      throw toBusError(error);
    }
  }
}

function isSendable(entity: Entity): entity is Sendable {
  return entity.sendable !== undefined;
}

function isReceivable(entity: Entity): entity is Receivable {
  return entity.receivable !== undefined;
}

/** Opens (creating if needed) the bus file `<dataDir>/bus.db`. */
export function openEmbeddedBus(
  dataDir: string,
  topology: BusTopology,
  options: Omit<EmbeddedBusOptions, 'path' | 'topology'> = {},
): EmbeddedBus {
  return new EmbeddedBus({ ...options, path: join(dataDir, 'bus.db'), topology });
}

/** Checks names (unique, Service Bus characters) and delivery counts; returns the topology. */
function validateTopology(topology: BusTopology): BusTopology {
  const seen = new Set<string>();
  const add = (path: string, name: string, what: string) => {
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/.test(name)) {
      throw new TypeError(`topology: bad ${what} name ${JSON.stringify(name)}`);
    }
    if (seen.has(path)) throw new TypeError(`topology: ${path} is declared twice`);
    seen.add(path);
  };
  for (const queue of topology.queues) {
    add(queue.name, queue.name, 'queue');
    positiveInteger(queue.maxDeliveryCount, `${queue.name}.maxDeliveryCount`);
  }
  for (const topic of topology.topics) {
    add(topic.name, topic.name, 'topic');
    for (const sub of topic.subscriptions) {
      add(subscriptionPath(topic.name, sub.name), sub.name, 'subscription');
      positiveInteger(sub.maxDeliveryCount, `${topic.name}/${sub.name}.maxDeliveryCount`);
    }
  }
  return topology;
}

/** `topic/subscriptions/name` in any case of the middle segment → the canonical spelling. */
function normalisePath(path: string): string {
  const parts = path.split('/');
  if (parts.length === 3 && parts[1]?.toLowerCase() === 'subscriptions') {
    return subscriptionPath(parts[0] ?? '', parts[2] ?? '');
  }
  return path;
}

function toReceived(row: MessageRow, deliveryCount: number): ReceivedMessage {
  const message: ReceivedMessage = {
    messageId: row.message_id,
    body: JSON.parse(row.body),
    applicationProperties: row.props === null ? {} : JSON.parse(row.props),
    deliveryCount,
    enqueuedTimeUtc: new Date(row.enqueued_at),
  };
  if (row.subject !== null) message.subject = row.subject;
  if (row.content_type !== null) message.contentType = row.content_type;
  if (row.correlation_id !== null) message.correlationId = row.correlation_id;
  return message;
}

function serialise(value: unknown, where: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${where} is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (json === undefined) throw new TypeError(`${where} is not JSON-serialisable`);
  return json;
}

function serialiseProperties(properties: unknown, where: string): string | null {
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    throw new TypeError(`${where} must be an object`);
  }
  let empty = true;
  for (const [key, value] of Object.entries(properties)) {
    empty = false;
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw new TypeError(`${where}.${key} must be a string, a finite number or a boolean`);
  }
  return empty ? null : JSON.stringify(properties);
}

function optionalString(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`${where} must be a string`);
  return value;
}

function positiveInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
  return value as number;
}

function nonNegativeInteger(value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new RangeError(`${name} must be a non-negative integer`);
  }
  return value as number;
}

function toBusError(error: unknown): unknown {
  if (!isSqliteError(error)) return error;
  if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
    return new EmbeddedBusError('ServiceBusy', `the bus database is busy: ${error.message}`);
  }
  return new EmbeddedBusError('GeneralError', `${error.code}: ${error.message}`);
}
