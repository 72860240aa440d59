import { createHash, randomInt } from 'node:crypto';
import type { PendingEvent } from '../domain/cloud-event';
import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentStore, JsonValue } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { Principal } from './api-key-service';
import { ServiceError } from './errors';
import { outboxOperation, toOutboxItem, type EventLimits } from './event-outbox';
import type { CommitListener } from './commit-feed';

/**
 * Token balances and their ledger. Every change of a balance is ONE transactional batch in the
 * user's token partition (`tokens:<userId>`):
 *
 *   replace (or create) the balance document, ifMatch its ETag   — no overdraw under concurrency
 *   create the ledger entry (with the operation's recorded result) — the charge and its record
 *   create the idempotency marker (when an Idempotency-Key came)   — a retried request charges once
 *   create the event document (tokens_charged / tokens_granted)    — the outbox: no change without its event
 *
 * A writer that lost the ETag race re-reads and tries again (bounded, with jittered backoff). A
 * balance short of the cost is refused before anything is written (payment-required).
 */

export const TOKEN_BALANCE_TYPE = 'token-balance';
export const TOKEN_LEDGER_TYPE = 'token-ledger';
export const TOKEN_IDEMPOTENCY_TYPE = 'token-idempotency';

const BALANCE_ID = 'balance';
/** Ledger ids count down from this, so the store's id order is newest first. */
const LEDGER_ID_BASE = 1e13;
const MAX_ATTEMPTS = 200;

export const tokenPartition = (userId: string) => `tokens:${userId}`;
const ledgerId = (version: number) => `ledger:${String(LEDGER_ID_BASE - version).padStart(14, '0')}`;
const idempotencyId = (key: string) =>
  `idem:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 40)}`;

interface BalanceDocument {
  userId: string;
  balance: number;
  granted: number;
  spent: number;
  /** Number of ledger entries; the version of the balance. */
  version: number;
  updatedAt: string;
}

export type LedgerKind = 'charge' | 'grant';

export interface LedgerEntry {
  id: string;
  userId: string;
  kind: LedgerKind;
  /** The metered operation (charges) or "grant". */
  operation: string;
  /** Positive for grants, negative for charges. */
  amount: number;
  balanceAfter: number;
  version: number;
  createdAt: string;
  by: { keyId: string; role: string };
  idempotencyKey?: string;
  reason?: string;
  /** What the operation was asked (e.g. the title), for the user's statement. */
  subject?: string;
}

interface LedgerDocument extends LedgerEntry {
  /** The operation's answer, returned again to a retry with the same Idempotency-Key. */
  result: JsonValue;
}

interface IdempotencyDocument {
  ledgerId: string;
  operation: string;
}

export interface TokenReceipt {
  entryId: string;
  /** Tokens taken (charges) or added (grants). */
  amount: number;
  balance: number;
  /** True when an earlier request with the same Idempotency-Key already did this; nothing changed now. */
  replayed: boolean;
}

export interface ChargeRequest {
  userId: string;
  operation: string;
  cost: number;
  result: JsonValue;
  principal: Principal;
  idempotencyKey?: string;
  subject?: string;
}

export interface GrantRequest {
  userId: string;
  amount: number;
  principal: Principal;
  reason?: string;
  idempotencyKey?: string;
}

export interface OperationUsage {
  charges: number;
  tokens: number;
  replays: number;
  refused: number;
}

/** Token usage of this instance since it started, per operation. */
export class TokenMetrics {
  private readonly usage = new Map<string, OperationUsage>();
  private grants = { count: 0, tokens: 0 };

  private entry(operation: string): OperationUsage {
    let u = this.usage.get(operation);
    if (!u) this.usage.set(operation, (u = { charges: 0, tokens: 0, replays: 0, refused: 0 }));
    return u;
  }
  charged(operation: string, tokens: number): void {
    const u = this.entry(operation);
    u.charges++;
    u.tokens += tokens;
  }
  replayed(operation: string): void {
    this.entry(operation).replays++;
  }
  refused(operation: string): void {
    this.entry(operation).refused++;
  }
  granted(tokens: number): void {
    this.grants.count++;
    this.grants.tokens += tokens;
  }
  snapshot(operations: readonly string[]): {
    operations: Record<string, OperationUsage>;
    grants: { count: number; tokens: number };
  } {
    const out: Record<string, OperationUsage> = {};
    for (const op of operations) out[op] = { ...this.entry(op) };
    for (const [op, u] of this.usage) out[op] ??= { ...u };
    return { operations: out, grants: { ...this.grants } };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class TokenService {
  readonly metrics = new TokenMetrics();

  constructor(
    private readonly store: DocumentStore,
    private readonly container: string,
    private readonly clock: Clock,
    private readonly options: { events: EventLimits },
    private readonly onCommit?: CommitListener,
  ) {}

  async balance(
    userId: string,
  ): Promise<{ balance: number; granted: number; spent: number; version: number; updatedAt: string | null }> {
    const doc = await this.store.read<BalanceDocument>(this.container, tokenPartition(userId), BALANCE_ID);
    if (!doc) return { balance: 0, granted: 0, spent: 0, version: 0, updatedAt: null };
    const { balance, granted, spent, version, updatedAt } = doc.body;
    return { balance, granted, spent, version, updatedAt };
  }

  /** Ledger entries, newest first, `limit` per page; pass `next` back as `continuation`. */
  async ledger(
    userId: string,
    limit: number,
    continuation?: string,
  ): Promise<{ entries: LedgerEntry[]; next: string | null }> {
    const page = await this.store.query<LedgerDocument>(this.container, {
      type: TOKEN_LEDGER_TYPE,
      pk: tokenPartition(userId),
      limit,
      ...(continuation ? { continuation } : {}),
    });
    return {
      entries: page.items.map((d) => {
        const { result: _result, ...entry } = d.body;
        return entry;
      }),
      next: page.continuation ?? null,
    };
  }

  /**
   * Charges `cost` for an operation whose answer (`result`) was already computed, and records both in
   * one atomic write. With an Idempotency-Key already used for this user, returns the recorded answer
   * and charges nothing.
   */
  async charge(request: ChargeRequest): Promise<{ result: JsonValue; receipt: TokenReceipt }> {
    const outcome = await this.write({
      userId: request.userId,
      kind: 'charge',
      operation: request.operation,
      delta: -request.cost,
      result: request.result,
      principal: request.principal,
      idempotencyKey: request.idempotencyKey,
      subject: request.subject,
    });
    if (outcome.receipt.replayed) this.metrics.replayed(request.operation);
    else this.metrics.charged(request.operation, request.cost);
    return outcome;
  }

  /** Adds tokens to a balance (admin), idempotent with an Idempotency-Key. */
  async grant(request: GrantRequest): Promise<{ result: JsonValue; receipt: TokenReceipt }> {
    const outcome = await this.write({
      userId: request.userId,
      kind: 'grant',
      operation: 'grant',
      delta: request.amount,
      result: null,
      principal: request.principal,
      idempotencyKey: request.idempotencyKey,
      reason: request.reason,
    });
    if (!outcome.receipt.replayed) this.metrics.granted(request.amount);
    return outcome;
  }

  private async replay(
    pk: string,
    markerId: string,
    operation: string,
  ): Promise<{ result: JsonValue; receipt: TokenReceipt } | undefined> {
    const marker = await this.store.read<IdempotencyDocument>(this.container, pk, markerId);
    if (!marker) return undefined;
    if (marker.body.operation !== operation) {
      throw new ServiceError(
        'conflict',
        `The Idempotency-Key was already used for a ${marker.body.operation} request of this user; use a new key.`,
      );
    }
    const entry = await this.store.read<LedgerDocument>(this.container, pk, marker.body.ledgerId);
    if (!entry) throw new ServiceError('unavailable', 'The recorded operation could not be read; retry.');
    return {
      result: entry.body.result,
      receipt: {
        entryId: entry.body.id,
        amount: Math.abs(entry.body.amount),
        balance: entry.body.balanceAfter,
        replayed: true,
      },
    };
  }

  private async write(w: {
    userId: string;
    kind: LedgerKind;
    operation: string;
    delta: number;
    result: JsonValue;
    principal: Principal;
    idempotencyKey?: string;
    reason?: string;
    subject?: string;
  }): Promise<{ result: JsonValue; receipt: TokenReceipt }> {
    const pk = tokenPartition(w.userId);
    const markerId = w.idempotencyKey !== undefined ? idempotencyId(w.idempotencyKey) : undefined;
    for (let attempt = 0; ; attempt++) {
      if (markerId) {
        const earlier = await this.replay(pk, markerId, w.operation);
        if (earlier) return earlier;
      }
      const current = await this.store.read<BalanceDocument>(this.container, pk, BALANCE_ID);
      const before = current?.body.balance ?? 0;
      if (before + w.delta < 0) {
        this.metrics.refused(w.operation);
        throw new ServiceError(
          'payment-required',
          `User ${w.userId} has ${before} tokens; ${w.operation} costs ${-w.delta}. Nothing was charged.`,
        );
      }
      const now = this.clock.now();
      const at = new Date(now).toISOString();
      const version = (current?.body.version ?? 0) + 1;
      const balance: BalanceDocument = {
        userId: w.userId,
        balance: before + w.delta,
        granted: (current?.body.granted ?? 0) + Math.max(0, w.delta),
        spent: (current?.body.spent ?? 0) + Math.max(0, -w.delta),
        version,
        updatedAt: at,
      };
      const entry: LedgerDocument = {
        id: ledgerId(version),
        userId: w.userId,
        kind: w.kind,
        operation: w.operation,
        amount: w.delta,
        balanceAfter: balance.balance,
        version,
        createdAt: at,
        by: { keyId: w.principal.keyId, role: w.principal.role },
        ...(w.idempotencyKey !== undefined ? { idempotencyKey: w.idempotencyKey } : {}),
        ...(w.reason !== undefined ? { reason: w.reason } : {}),
        ...(w.subject !== undefined ? { subject: w.subject } : {}),
        result: w.result,
      };
      const ops: BatchOperation[] = [
        current
          ? { op: 'replace', id: BALANCE_ID, type: TOKEN_BALANCE_TYPE, body: balance, ifMatch: current.etag }
          : { op: 'create', id: BALANCE_ID, type: TOKEN_BALANCE_TYPE, body: balance },
        { op: 'create', id: entry.id, type: TOKEN_LEDGER_TYPE, body: entry },
      ];
      if (markerId) {
        const marker: IdempotencyDocument = { ledgerId: entry.id, operation: w.operation };
        ops.push({ op: 'create', id: markerId, type: TOKEN_IDEMPOTENCY_TYPE, body: marker });
      }
      const eventOp = this.eventOperation(
        w.userId,
        version,
        now,
        {
          userId: w.userId,
          operation: w.operation,
          amount: Math.abs(w.delta),
          balance: balance.balance,
          entryId: entry.id,
          ...(w.reason !== undefined ? { reason: w.reason } : {}),
        },
        w.kind,
      );
      ops.push(eventOp);
      try {
        const results = await this.store.batch(this.container, pk, ops);
        const item = toOutboxItem(pk, eventOp, results[ops.length - 1]?.seq);
        if (item) this.onCommit?.([item]);
        return {
          result: w.result,
          receipt: {
            entryId: entry.id,
            amount: Math.abs(w.delta),
            balance: balance.balance,
            replayed: false,
          },
        };
      } catch (error) {
        // Lost the race for the balance (ETag moved, or another first write created it), or the
        // same Idempotency-Key committed meanwhile: re-read and decide again.
        const lost =
          isStoreError(error, 'precondition-failed') ||
          isStoreError(error, 'conflict') ||
          isStoreError(error, 'not-found');
        if (!lost) throw error;
        if (attempt + 1 >= MAX_ATTEMPTS)
          throw new ServiceError(
            'unavailable',
            `Tokens of user ${w.userId} are being changed concurrently; retry.`,
          );
        await sleep(randomInt(0, Math.min(20, 1 + attempt) + 1));
      }
    }
  }

  private eventOperation(
    userId: string,
    version: number,
    now: number,
    data: Record<string, JsonValue>,
    kind: LedgerKind,
  ): BatchOperation {
    const event: PendingEvent = {
      specversion: '1.0',
      id: `tokens:${userId}:${version}`,
      source: `/bridge/tokens/${encodeURIComponent(userId)}`,
      type: kind === 'charge' ? 'tokens_charged' : 'tokens_granted',
      subject: userId,
      time: new Date(now).toISOString(),
      datacontenttype: 'application/json',
      data,
    };
    return outboxOperation(`tokens:${version}`, event, now, this.options.events);
  }
}
