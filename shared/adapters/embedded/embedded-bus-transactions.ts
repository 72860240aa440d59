/**
 * What the embedded bus does under the write lock, one method per operation. Each runs inside the
 * current commit group's savepoint (see ./group-commit.ts), so it applies completely or not at all,
 * and is durable once the group commits.
 */
import { randomUUID } from 'node:crypto';
import { subscriptionAccepts } from '../../domain/bus-topology';
import type { Clock } from '../../ports/clock';
import type { EncodedMessage } from './embedded-bus-codec';
import type { Receivable, Sendable } from './embedded-bus-entities';
import { EmbeddedBusError, lockLost } from './embedded-bus-errors';
import { FORGET_CHUNK, type MessageRow, type SharedStatements } from './embedded-bus-schema';

export const MAX_DELIVERY_COUNT_EXCEEDED = 'MaxDeliveryCountExceeded';

/** A message ready to store, with the entities its copies go to. */
export interface TargetedMessage extends EncodedMessage {
  /** The queue itself, or each subscription whose filter accepts the message. */
  targets: Receivable[];
}

export interface SendOutcome {
  visibleNow: Set<Receivable>;
  later: Map<Receivable, number>;
}

/** A held peek-lock, as decoded from its token. */
export interface Lock {
  entity: Receivable;
  seq: number;
  token: string;
}

export interface LockedRows {
  now: number;
  locked: { row: MessageRow; token: string }[];
}

/** The receiving entities of a message sent to `entity` (a queue: itself; a topic: its accepting subscriptions). */
export function targetsOf(entity: Sendable, message: EncodedMessage): Receivable[] {
  if (entity.receivable) return [entity as Receivable];
  const targets: Receivable[] = [];
  for (const sub of entity.subscriptions) {
    if (subscriptionAccepts(sub.spec, message.properties)) targets.push(sub.entity);
  }
  return targets;
}

export class BusTransactions {
  constructor(
    private readonly clock: Clock,
    private readonly shared: SharedStatements,
    private readonly windowMs: number,
  ) {}

  /** Duplicate detection, sequence numbers, one row per copy. */
  send(entity: Sendable, messages: TargetedMessage[]): SendOutcome {
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
        seen.markSeen.run(bucket, id, now);
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

  /** Locks up to `max` visible messages in sequence order, dead-lettering exhausted ones. */
  lockVisible(entity: Receivable, max: number, lockMs: number): LockedRows {
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

  /** Deletes locked messages; the locks that were no longer held, by index. */
  complete(locks: readonly Lock[]): number[] {
    const now = this.clock.now();
    const lost: number[] = [];
    locks.forEach(({ entity, seq, token }, index) => {
      if (entity.receivable.complete.run(seq, token, now).changes === 0) lost.push(index);
    });
    return lost;
  }

  /** Releases a locked message, receivable again at `visibleAt`. */
  release({ entity, seq, token }: Lock, now: number, visibleAt: number): void {
    if (entity.receivable.release.run(visibleAt, seq, token, now).changes === 0) throw lockLost();
  }

  renew({ entity, seq, token }: Lock, now: number, lockedUntil: number): void {
    if (entity.receivable.renew.run(lockedUntil, seq, token, now).changes === 0) throw lockLost();
  }

  deadLetter({ entity, seq, token }: Lock, reason: string, description: string): void {
    const now = this.clock.now();
    const statements = entity.receivable;
    if (statements.isLocked.get(seq, token, now) === undefined) throw lockLost();
    statements.deadLetter.run(reason, description, now, seq);
    statements.remove.run(seq);
  }

  /** A dead letter back in its entity as a fresh message; its new sequence number. */
  resubmit(entity: Receivable, seq: number): number {
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
  }
}
