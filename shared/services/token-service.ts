import { createHash, randomInt } from 'node:crypto';
import type { PendingEvent } from '../domain/cloud-event';
import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentCollection, JsonValue } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { canonicalJson } from '../domain/json';
import { idempotencyScopeOf } from './access-policy';
import { principalRef, type Principal, type PrincipalRef } from './principal';
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
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
/** Idempotency records are per user *and* per caller: another caller's same key is another record. */
const idempotencyId = (scope: string, key: string) => `idem:${sha256Hex(`${scope}\n${key}`).slice(0, 40)}`;
/** What was asked, canonicalised: a key sent again with a different request is refused (422). */
const requestHashOf = (operation: string, userId: string, request: unknown) =>
  sha256Hex(canonicalJson({ operation, userId, request: request ?? null }));

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
  /** Who asked: `{kind, role, keyId | subject | userId}` (older entries: `{keyId, role}`). */
  by: PrincipalRef;
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
  /** SHA-256 of the canonical request the key was first used with. */
  requestHash: string;
  /** The caller the key belongs to (access-policy idempotencyScopeOf). */
  scope: string;
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
  /** What the caller asked (validated input), compared with an earlier use of the same key. */
  request?: unknown;
  subject?: string;
}

export interface GrantRequest {
  userId: string;
  amount: number;
  principal: Principal;
  reason?: string;
  idempotencyKey?: string;
}

/** Finds what an earlier request with the same Idempotency-Key (same caller, same user) recorded. */
export interface RecordedLookup {
  userId: string;
  operation: string;
  principal: Principal;
  idempotencyKey: string;
  request?: unknown;
}

export interface TokenOutcome {
  result: JsonValue;
  receipt: TokenReceipt;
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

const paymentRequired = (userId: string, balance: number, operation: string, cost: number) =>
  new ServiceError(
    'payment-required',
    `User ${userId} has ${balance} tokens; ${operation} costs ${cost}. Nothing was charged.`,
  );

/** What TokenService is built from (the composition root passes these). */
export interface TokenServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  /** What the events of a write must respect (retention, size). */
  events: EventLimits;
  onCommit?: CommitListener;
}

export class TokenService {
  readonly metrics = new TokenMetrics();

  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly options: { events: EventLimits };
  private readonly onCommit: CommitListener | undefined;

  constructor(deps: TokenServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.options = deps;
    this.onCommit = deps.onCommit;
  }

  async balance(
    userId: string,
  ): Promise<{ balance: number; granted: number; spent: number; version: number; updatedAt: string | null }> {
    const doc = await this.store.read<BalanceDocument>(tokenPartition(userId), BALANCE_ID);
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
    const page = await this.store.query<LedgerDocument>({
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
  async charge(request: ChargeRequest): Promise<TokenOutcome> {
    const outcome = await this.write({
      userId: request.userId,
      kind: 'charge',
      operation: request.operation,
      delta: -request.cost,
      result: request.result,
      principal: request.principal,
      idempotencyKey: request.idempotencyKey,
      request: request.request,
      subject: request.subject,
    });
    if (outcome.receipt.replayed) this.metrics.replayed(request.operation);
    else this.metrics.charged(request.operation, request.cost);
    return outcome;
  }

  /** Adds tokens to a balance (admin), idempotent with an Idempotency-Key. */
  async grant(request: GrantRequest): Promise<TokenOutcome> {
    const outcome = await this.write({
      userId: request.userId,
      kind: 'grant',
      operation: 'grant',
      delta: request.amount,
      result: null,
      principal: request.principal,
      idempotencyKey: request.idempotencyKey,
      request: { amount: request.amount, reason: request.reason },
      reason: request.reason,
    });
    if (!outcome.receipt.replayed) this.metrics.granted(request.amount);
    return outcome;
  }

  /**
   * The recorded answer of an earlier request with this Idempotency-Key by the same caller for the
   * same user, or undefined when there is none. A key used before with another request: 422.
   */
  async recorded(lookup: RecordedLookup): Promise<TokenOutcome | undefined> {
    const scope = idempotencyScopeOf(lookup.principal);
    const earlier = await this.replay(
      tokenPartition(lookup.userId),
      idempotencyId(scope, lookup.idempotencyKey),
      lookup.operation,
      requestHashOf(lookup.operation, lookup.userId, lookup.request),
    );
    if (earlier) this.metrics.replayed(lookup.operation);
    return earlier;
  }

  /** Refuses (402, nothing charged) when the balance cannot cover `cost`: checked before any work. */
  async ensureAffordable(userId: string, operation: string, cost: number): Promise<void> {
    const { balance } = await this.balance(userId);
    if (balance < cost) {
      this.metrics.refused(operation);
      throw paymentRequired(userId, balance, operation, cost);
    }
  }

  private async replay(
    pk: string,
    markerId: string,
    operation: string,
    requestHash: string,
  ): Promise<TokenOutcome | undefined> {
    const marker = await this.store.read<IdempotencyDocument>(pk, markerId);
    if (!marker) return undefined;
    if (marker.body.operation !== operation || marker.body.requestHash !== requestHash) {
      throw new ServiceError(
        'idempotency-key-reused',
        marker.body.operation !== operation
          ? `The Idempotency-Key was already used for a ${marker.body.operation} request; use a new key.`
          : 'The Idempotency-Key was already used with a different request; use a new key.',
      );
    }
    const entry = await this.store.read<LedgerDocument>(pk, marker.body.ledgerId);
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
    request?: unknown;
    reason?: string;
    subject?: string;
  }): Promise<TokenOutcome> {
    const pk = tokenPartition(w.userId);
    const scope = idempotencyScopeOf(w.principal);
    const markerId = w.idempotencyKey !== undefined ? idempotencyId(scope, w.idempotencyKey) : undefined;
    const requestHash = requestHashOf(w.operation, w.userId, w.request);
    for (let attempt = 0; ; attempt++) {
      if (markerId) {
        const earlier = await this.replay(pk, markerId, w.operation, requestHash);
        if (earlier) return earlier;
      }
      const current = await this.store.read<BalanceDocument>(pk, BALANCE_ID);
      const before = current?.body.balance ?? 0;
      if (before + w.delta < 0) {
        this.metrics.refused(w.operation);
        throw paymentRequired(w.userId, before, w.operation, -w.delta);
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
        by: principalRef(w.principal),
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
        const marker: IdempotencyDocument = {
          ledgerId: entry.id,
          operation: w.operation,
          requestHash,
          scope,
        };
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
        const results = await this.store.batch(pk, ops);
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
