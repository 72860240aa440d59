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
 * - `onAvailable` pushes "there is something to receive" to in-process listeners
 *   (./embedded-bus-notifier.ts).
 * - Several processes may share one file: every piece of state (messages, locks, sequence numbers,
 *   duplicate detection history) is in SQLite, and writers are serialised by BEGIN IMMEDIATE.
 *
 * The pieces: ./embedded-bus-codec.ts (message validation and (de)serialisation),
 * ./embedded-bus-entities.ts (topology → entities), ./embedded-bus-transactions.ts (what runs
 * under the write lock), ./embedded-bus-notifier.ts (wake-ups), ./embedded-bus-schema.ts (tables,
 * statements, migrations), ./group-commit.ts (one COMMIT per event-loop turn).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../ports/clock';
import type { MessageSender, OutgoingMessage, ReceivedMessage } from '../../ports/message-sender';
import { decodeMessage, encodeMessage } from './embedded-bus-codec';
import {
  EntityRegistry,
  isReceivable,
  nonNegativeInteger,
  positiveInteger,
  validateTopology,
  type BusTopology,
  type Receivable,
} from './embedded-bus-entities';
import { EmbeddedBusError, lockLost, toBusError } from './embedded-bus-errors';
import { AvailabilityNotifier } from './embedded-bus-notifier';
import { BUS_MIGRATIONS, prepareShared, type DeadLetterRow } from './embedded-bus-schema';
import { BusTransactions, targetsOf, type Lock, type TargetedMessage } from './embedded-bus-transactions';
import { GroupCommit } from './group-commit';
import { databaseOpenFailure, preparePrivateDatabase } from './private-files';
import { migrate } from './sqlite-migrations';

export { isEmbeddedBusError, EmbeddedBusError, type EmbeddedBusErrorCode } from './embedded-bus-errors';
export { subscriptionPath, type BusTopology } from './embedded-bus-entities';
export { MAX_DELIVERY_COUNT_EXCEEDED } from './embedded-bus-transactions';

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

const DEFAULT_LOCK_DURATION_MS = 30_000;
const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;
const MAX_RECEIVE = 5000;
/** ~40 MB of WAL between checkpoints (see the constructor). */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

export class EmbeddedBus implements MessageSender {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly entities: EntityRegistry;
  private readonly lockDurationMs: number;
  private readonly maxMessageSize: number;
  private readonly notifier: AvailabilityNotifier;
  private readonly tx: BusTransactions;
  /** Writes of one event-loop turn share one commit; see GroupCommit. */
  private readonly group: GroupCommit;

  constructor(options: EmbeddedBusOptions) {
    this.clock = options.clock ?? systemClock;
    const windowMs = nonNegativeInteger(
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
    let shared: ReturnType<typeof prepareShared>;
    try {
      // The busy timeout comes first: switching to WAL itself needs a lock another process may hold.
      this.db.pragma(`busy_timeout = ${busyTimeout}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      // Hot pages (each table's tail) are rewritten by every send; checkpointing less often copies
      // each of them once per checkpoint instead of many times (the WAL file settles at ~40 MB).
      this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      migrate(this.db, `the embedded bus ${options.path}`, BUS_MIGRATIONS);
      shared = prepareShared(this.db);
      this.entities = this.db.transaction(() => new EntityRegistry(this.db, shared, topology)).immediate();
    } catch (error) {
      this.db.close();
      throw databaseOpenFailure(options.path, error) ?? toBusError(error);
    }
    this.notifier = new AvailabilityNotifier(this.clock);
    this.tx = new BusTransactions(this.clock, shared, windowMs);
    this.group = new GroupCommit(this.db, toBusError);
  }

  /**
   * Sends to a queue or topic. Resolves once every message is committed (one transaction); a
   * message whose messageId the entity has seen inside the duplicate detection window is dropped.
   */
  async send(entityPath: string, messages: OutgoingMessage[]): Promise<void> {
    const entity = this.entities.sendable(entityPath);
    if (!Array.isArray(messages)) throw new TypeError('messages must be an array');
    const prepared = messages.map((message, index): TargetedMessage => {
      const encoded = encodeMessage(message, index, entity.path, this.maxMessageSize);
      return { ...encoded, targets: targetsOf(entity, encoded) };
    });
    if (prepared.length === 0) return;
    const outcome = await this.grouped(() => this.tx.send(entity, prepared));
    for (const target of outcome.visibleNow) this.notifier.announce(target);
    for (const [target, at] of outcome.later) this.notifier.visibleAt(target, at);
  }

  /**
   * Peek-locks up to `maxMessages` visible messages of a queue or `<topic>/Subscriptions/<name>`,
   * in sequence order; each receive counts a delivery. Resolves to [] when none is visible.
   */
  async receive(entityPath: string, options: ReceiveOptions): Promise<LockedMessage[]> {
    const entity = this.entities.receivable(entityPath);
    const max = positiveInteger(options?.maxMessages, 'maxMessages');
    if (max > MAX_RECEIVE) throw new RangeError(`maxMessages must be at most ${MAX_RECEIVE}`);
    const lockMs = positiveInteger(options.lockDurationMs ?? this.lockDurationMs, 'lockDurationMs');
    const { now, locked } = await this.grouped(() => this.tx.lockVisible(entity, max, lockMs));
    if (locked.length === 0) return [];
    this.notifier.visibleAt(entity, now + lockMs);
    return locked.map(({ row, token }) => ({
      lockToken: token,
      entityPath: entity.path,
      sequenceNumber: row.seq,
      lockedUntil: new Date(now + lockMs),
      message: decodeMessage(row, row.delivery_count + 1),
    }));
  }

  /** Settles a locked message: it is gone for good. */
  async complete(lockToken: string): Promise<void> {
    const lock = this.lock(lockToken);
    const lost = await this.guard(() => this.group.runStatement(() => this.tx.complete([lock])));
    if (lost.length > 0) throw lockLost();
  }

  /**
   * Settles several locked messages in one write; resolves to the tokens whose lock was no longer
   * held (those messages are receivable again, or were settled already).
   */
  async completeAll(lockTokens: readonly string[]): Promise<string[]> {
    if (!Array.isArray(lockTokens)) throw new TypeError('lockTokens must be an array');
    const locks: Lock[] = [];
    const lost: string[] = [];
    for (const token of lockTokens) {
      try {
        locks.push(this.lock(token));
      } catch {
        lost.push(token);
      }
    }
    if (locks.length === 0) return lost;
    const lostIndexes = await this.grouped(() => this.tx.complete(locks));
    return [...lost, ...lostIndexes.map((index) => (locks[index] as Lock).token)];
  }

  /** Releases a locked message: receivable again now, or after `retryAfterMs`. */
  async abandon(lockToken: string, options: { retryAfterMs?: number } = {}): Promise<void> {
    const lock = this.lock(lockToken);
    const delay = nonNegativeInteger(options.retryAfterMs ?? 0, 'retryAfterMs');
    const now = this.guard(() => this.clock.now());
    await this.guard(() => this.group.runStatement(() => this.tx.release(lock, now, now + delay)));
    if (delay === 0) this.notifier.announce(lock.entity);
    else this.notifier.visibleAt(lock.entity, now + delay);
  }

  /** Moves a locked message to its entity's dead-letter sub-queue. */
  async deadLetter(lockToken: string, options: { reason: string; description?: string }): Promise<void> {
    const lock = this.lock(lockToken);
    if (typeof options?.reason !== 'string') throw new TypeError('reason must be a string');
    const description = options.description ?? '';
    if (typeof description !== 'string') throw new TypeError('description must be a string');
    await this.grouped(() => this.tx.deadLetter(lock, options.reason, description));
  }

  /** Extends a held lock to `lockDurationMs` from now; resolves to the new expiry. */
  async renewLock(lockToken: string, options: { lockDurationMs?: number } = {}): Promise<Date> {
    const lock = this.lock(lockToken);
    const lockMs = positiveInteger(options.lockDurationMs ?? this.lockDurationMs, 'lockDurationMs');
    const now = this.guard(() => this.clock.now());
    this.guard(() => this.tx.renew(lock, now, now + lockMs));
    this.notifier.visibleAt(lock.entity, now + lockMs);
    return new Date(now + lockMs);
  }

  /** The dead-letter sub-queue's messages in sequence order, without locking them. */
  async peekDeadLetters(
    entityPath: string,
    options: { limit: number; fromSequenceNumber?: number },
  ): Promise<DeadLetteredMessage[]> {
    const entity = this.entities.receivable(entityPath);
    const limit = positiveInteger(options?.limit, 'limit');
    const from = nonNegativeInteger(options.fromSequenceNumber ?? 0, 'fromSequenceNumber');
    const rows = this.guard(() => entity.receivable.peekDeadLetters.all(from, limit) as DeadLetterRow[]);
    return rows.map((row) => ({
      entityPath: entity.path,
      sequenceNumber: row.seq,
      deadLetterReason: row.reason,
      deadLetterErrorDescription: row.description,
      deadLetteredAt: new Date(row.dead_lettered_at),
      message: decodeMessage(row, row.delivery_count),
    }));
  }

  /**
   * Moves a dead-lettered message back to its entity as a fresh message (new sequence number,
   * delivery count 0, visible now); resolves to the new sequence number.
   */
  async resubmitDeadLetter(entityPath: string, sequenceNumber: number): Promise<number> {
    const entity = this.entities.receivable(entityPath);
    const seq = positiveInteger(sequenceNumber, 'sequenceNumber');
    const newSeq = await this.grouped(() => this.tx.resubmit(entity, seq));
    this.notifier.announce(entity);
    return newSeq;
  }

  /** Messages enqueued in the entity (visible or locked), like Service Bus's activeMessageCount. */
  async countActive(entityPath: string): Promise<number> {
    const entity = this.entities.receivable(entityPath);
    return this.guard(() => entity.receivable.countEnqueued.get(this.clock.now()) as number);
  }

  /** Scheduled messages whose time has not come yet (scheduledMessageCount). */
  async countScheduled(entityPath: string): Promise<number> {
    const entity = this.entities.receivable(entityPath);
    return this.guard(() => entity.receivable.countScheduled.get(this.clock.now()) as number);
  }

  async countDeadLetters(entityPath: string): Promise<number> {
    const entity = this.entities.receivable(entityPath);
    return this.guard(() => entity.receivable.countDeadLetters.get() as number);
  }

  /**
   * When the entity next has a receivable message (epoch ms; at or before now: already), or
   * undefined when it holds none at all. A locked message counts at its lock's expiry.
   */
  async nextVisibleAt(entityPath: string): Promise<number | undefined> {
    const entity = this.entities.receivable(entityPath);
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
    const entity = this.entities.receivable(entityPath);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    return this.guard(() => this.notifier.listen(entity, listener));
  }

  async close(): Promise<void> {
    if (this.db.open) this.group.commit();
    this.notifier.close();
    if (this.db.open) this.db.close();
  }

  /** The entity and message a lock token names; a malformed or foreign token is a lost lock. */
  private lock(lockToken: string): Lock & { entity: Receivable } {
    const parts = typeof lockToken === 'string' ? lockToken.split('.') : [];
    const entity = parts.length === 3 ? this.entities.byId(Number(parts[0])) : undefined;
    const seq = Number(parts[1]);
    if (!entity || !isReceivable(entity) || !Number.isSafeInteger(seq)) throw lockLost();
    return { entity, seq, token: lockToken };
  }

  /** A write in the current commit group (one COMMIT per event-loop turn); resolves after it. */
  private grouped<R>(write: () => R): Promise<R> {
    return this.guard(() => this.group.run(write));
  }

  /** Runs fn, turning SQLite failures into EmbeddedBusErrors so callers never see driver errors. */
  private guard<R>(fn: () => R): R {
    if (!this.db.open) throw new EmbeddedBusError('GeneralError', 'the embedded bus is closed');
    try {
      return fn();
    } catch (error) {
      throw toBusError(error);
    }
  }
}

/** Opens (creating if needed) the bus file `<dataDir>/bus.db`. */
export function openEmbeddedBus(
  dataDir: string,
  topology: BusTopology,
  options: Omit<EmbeddedBusOptions, 'path' | 'topology'> = {},
): EmbeddedBus {
  return new EmbeddedBus({ ...options, path: join(dataDir, 'bus.db'), topology });
}
