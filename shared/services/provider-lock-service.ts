import { randomInt } from 'node:crypto';
/**
 * The provider lock (seed 003) kept in the DocumentStore, so every instance of the app agrees on the
 * one active AI provider. The rules are the pure state machine in shared/domain/analysis/provider-lock.ts;
 * this service reads the lock document, applies an event to it and writes it back only if its ETag is
 * unchanged — an instance that lost the race re-reads and re-applies its event to the winner's state.
 * So two instances that see the same provider fail at the same time end with one failover, not two.
 *
 * Besides the domain's LockState, the document records whether an admin chose the active provider
 * (`manual`). The service then keeps a provider holding the lock:
 * - nothing holds it (first use, or after a release) → the first in line takes it;
 * - the holder is no longer configured → the first in line takes it;
 * - the heuristic holds it after a failover (not an admin's choice) and a provider has come back from
 *   its cooldown → that provider takes it (health recovery).
 * A healthy provider is never replaced by a higher-priority one that recovers: no per-request switching.
 */
import {
  HEURISTIC_PROVIDER,
  acquire,
  attemptFailed,
  attemptSucceeded,
  describe,
  healthChecked,
  initialLockState,
  nextInLine,
  recover,
  release,
  type AuditEntry,
  type FailureKind,
  type HealthCheckOutcome,
  type HealthCheckRecord,
  type LockDescription,
  type LockPolicy,
  type LockResult,
  type LockState,
  type ProviderDescription,
} from '../domain/analysis/provider-lock';
import type { AiConfig } from '../config';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { ServiceError } from './errors';

export const LOCK_PARTITION = 'ai:provider-lock';
export const LOCK_DOC_ID = 'lock';
export const LOCK_DOC_TYPE = 'provider-lock';
/** Lost ETag races tolerated per operation before answering 503. */
const MAX_RACES = 25;

export interface LockDocument {
  state: LockState;
  /** True when an admin chose the active provider (POST /api/providers/lock). */
  manual: boolean;
}

export interface ActiveProvider {
  provider: string;
  /** Why the lock is where it is. */
  reason: string | null;
  /** When the heuristic holds the lock because of a failover: the failover that put it there. */
  failover?: { from: string; kind?: FailureKind; reason?: string };
}

export interface ProviderStateView extends Omit<
  ProviderDescription,
  'cooldownUntil' | 'cooldownRemainingMs' | 'lastError' | 'lastCheck'
> {
  cooldownUntil: string | null;
  cooldownRemainingSeconds: number;
  lastError: { kind: FailureKind; at: string; message?: string } | null;
  /** The health monitor's last check (providers-check timer); null before the first. */
  lastCheck: (Omit<HealthCheckRecord, 'at'> & { at: string }) | null;
}

/** What the health monitor's check of one provider led to. */
export interface HealthCheckResult {
  tripped: boolean;
  failedOver?: { from: string; to: string };
  /** The lock went back from the heuristic to this provider (health recovery). */
  failedBack?: string;
}

export interface ProvidersView extends Omit<LockDescription, 'since' | 'providers'> {
  since: string | null;
  providers: ProviderStateView[];
  manual: boolean;
  rules: { failureThreshold: number; rateLimitThreshold: number; cooldownSeconds: number };
  /** Newest first. */
  audit: (Omit<AuditEntry, 'at'> & { at: string })[];
  auditSize: number;
}

export interface LockPolicySettings extends Required<Omit<LockPolicy, 'configured'>> {
  configured: readonly string[];
}

/** The lock policy of the configured providers: AI_PROVIDER_ORDER and the AI_* thresholds. */
export function lockPolicyFor(ai: AiConfig, configured: Iterable<string>): LockPolicySettings {
  return {
    order: ai.order,
    configured: [...configured],
    failureThreshold: ai.failureThreshold,
    rateLimitThreshold: ai.rateLimitThreshold,
    cooldownMs: ai.cooldownMs,
  };
}

type Mutation<T> = (doc: LockDocument, now: number) => { doc: LockDocument; value: T };

export class ProviderLockService {
  constructor(
    private readonly store: DocumentCollection,
    private readonly clock: Clock,
    readonly policy: LockPolicySettings,
  ) {}

  /** The provider that holds the lock now, taking it for the first in line when needed (see above). */
  async active(): Promise<ActiveProvider> {
    const configured = new Set([...this.policy.configured, HEURISTIC_PROVIDER]);
    return this.update((doc, now) => {
      const state = recover(doc.state, now);
      const next = nextInLine(state, this.policy, now);
      let reason: string | null = null;
      if (state.active === null)
        reason = `auto: first in line (${state.reason ?? 'no provider held the lock'})`;
      else if (!configured.has(state.active)) reason = `auto: ${state.active} is no longer configured`;
      else if (state.active === HEURISTIC_PROVIDER && !doc.manual && next !== HEURISTIC_PROVIDER) {
        reason = `auto: ${next} is available again (health recovery)`;
      }
      if (reason === null) {
        return { doc: state === doc.state ? doc : { ...doc, state }, value: this.activeOf(state) };
      }
      const result = acquire(state, next, reason, now, this.policy);
      return { doc: { state: result.state, manual: false }, value: this.activeOf(result.state) };
    });
  }

  /** An admin takes the lock for `provider`; 400 for an unknown one, 409 when it may not be chosen now. */
  async acquire(provider: string, reason: string): Promise<ProvidersView> {
    // An unknown name is bad input: refused before anything is read or written (no audit entry).
    const known = [...this.policy.order, HEURISTIC_PROVIDER];
    if (!known.includes(provider)) {
      const why = `unknown provider; known: ${known.join(', ')}`;
      throw new ServiceError('validation', `Cannot lock ${provider}: ${why}.`, [
        { path: '/provider', message: why },
      ]);
    }
    const result = await this.update((doc, now) => {
      const r = acquire(doc.state, provider, reason, now, this.policy);
      return { doc: { state: r.state, manual: r.rejected ? doc.manual : true }, value: r };
    });
    if (result.rejected) {
      const why = {
        'unknown-provider': `unknown provider; known: ${[...this.policy.order, HEURISTIC_PROVIDER].join(', ')}`,
        'not-configured': 'not configured (set its AI_<NAME>_API_KEY and AI_<NAME>_MODEL)',
        'cooling-down': 'cooling down after failures; it may be chosen when its cooldown has passed',
      }[result.rejected.reason];
      if (result.rejected.reason === 'unknown-provider') {
        throw new ServiceError('validation', `Cannot lock ${provider}: ${why}.`, [
          { path: '/provider', message: why },
        ]);
      }
      throw new ServiceError('conflict', `Cannot lock ${provider}: ${why}.`);
    }
    return this.view();
  }

  /** An admin releases the lock; the next analysis request gives it to the first in line. */
  async release(reason: string): Promise<ProvidersView> {
    await this.update((doc, now) => ({
      doc: { state: release(doc.state, reason, now).state, manual: false },
      value: null,
    }));
    return this.view();
  }

  /** A call to `provider` succeeded: its failure counts reset. */
  async succeeded(provider: string): Promise<void> {
    await this.update((doc, now) => {
      const state = attemptSucceeded(doc.state, provider, now).state;
      return { doc: state === doc.state ? doc : { ...doc, state }, value: null };
    });
  }

  /** A call to `provider` failed: counted, and the lock fails over when the rules say so. */
  async failed(provider: string, kind: FailureKind, message?: string): Promise<LockResult> {
    return this.update((doc, now) => {
      const result = attemptFailed(doc.state, provider, kind, now, this.policy, message);
      return { doc: { state: result.state, manual: result.failedOver ? false : doc.manual }, value: result };
    });
  }

  /**
   * The health monitor checked `provider`: the outcome counts under the same rules as a real call
   * (domain healthChecked). When the heuristic holds the lock because of a failover and a provider
   * is available again, the lock goes back to it here too, without waiting for the next analysis.
   */
  async healthChecked(provider: string, outcome: HealthCheckOutcome): Promise<HealthCheckResult> {
    return this.update((doc, now) => {
      const checked = healthChecked(doc.state, provider, outcome, now, this.policy);
      let state = checked.state;
      let manual = checked.failedOver ? false : doc.manual;
      const result: HealthCheckResult = { tripped: checked.tripped !== undefined };
      if (checked.failedOver)
        result.failedOver = { from: checked.failedOver.from, to: checked.failedOver.to };
      const next = nextInLine(state, this.policy, now);
      if (state.active === HEURISTIC_PROVIDER && !manual && next !== HEURISTIC_PROVIDER) {
        const reason = `auto: ${next} is available again (health recovery, found by the health check)`;
        state = acquire(state, next, reason, now, this.policy).state;
        manual = false;
        result.failedBack = next;
      }
      return { doc: { state, manual }, value: result };
    });
  }

  /** GET /api/providers: the lock, every provider's state and the newest `auditLimit` audit entries. */
  async view(auditLimit = 50): Promise<ProvidersView> {
    const { doc } = await this.read();
    const now = this.clock.now();
    const d = describe(doc.state, this.policy, now);
    const audit = recover(doc.state, now).audit;
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      ...d,
      since: d.since === null ? null : iso(d.since),
      providers: d.providers.map(({ cooldownUntil, cooldownRemainingMs, lastError, lastCheck, ...p }) => ({
        ...p,
        cooldownUntil: cooldownUntil === null ? null : iso(cooldownUntil),
        cooldownRemainingSeconds: Math.ceil(cooldownRemainingMs / 1000),
        lastError: lastError ? { ...lastError, at: iso(lastError.at) } : null,
        lastCheck: lastCheck ? { ...lastCheck, at: iso(lastCheck.at) } : null,
      })),
      manual: doc.manual,
      rules: {
        failureThreshold: this.policy.failureThreshold,
        rateLimitThreshold: this.policy.rateLimitThreshold,
        cooldownSeconds: this.policy.cooldownMs / 1000,
      },
      audit: audit
        .slice(Math.max(0, audit.length - auditLimit))
        .reverse()
        .map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      auditSize: audit.length,
    };
  }

  async read(): Promise<{ doc: LockDocument; etag?: string }> {
    const stored = await this.store.read<LockDocument>(LOCK_PARTITION, LOCK_DOC_ID);
    return stored
      ? { doc: stored.body, etag: stored.etag }
      : { doc: { state: initialLockState(), manual: false } };
  }

  private activeOf(state: LockState): ActiveProvider {
    const provider = state.active ?? HEURISTIC_PROVIDER;
    const active: ActiveProvider = { provider, reason: state.reason };
    if (provider === HEURISTIC_PROVIDER) {
      const last = [...state.audit].reverse().find((e) => e.type === 'failover' || e.type === 'acquire');
      if (last?.type === 'failover' && last.to === HEURISTIC_PROVIDER && last.from) {
        active.failover = {
          from: last.from,
          ...(last.kind ? { kind: last.kind } : {}),
          ...(last.reason ? { reason: last.reason } : {}),
        };
      }
    }
    return active;
  }

  /**
   * Read → mutate → write if the ETag is unchanged; on a lost race, again from the winner's state.
   * A mutation that returns the same document writes nothing.
   */
  private async update<T>(mutate: Mutation<T>): Promise<T> {
    for (let race = 0; ; race++) {
      const { doc, etag } = await this.read();
      const { doc: next, value } = mutate(doc, this.clock.now());
      if (next === doc && etag !== undefined) return value;
      try {
        const body = { id: LOCK_DOC_ID, type: LOCK_DOC_TYPE, body: next };
        if (etag === undefined) await this.store.create(LOCK_PARTITION, body);
        else await this.store.upsert(LOCK_PARTITION, body, { ifMatch: etag });
        return value;
      } catch (error) {
        const lost = isStoreError(error, 'precondition-failed') || isStoreError(error, 'conflict');
        if (!lost) throw error;
        if (race >= MAX_RACES)
          throw new ServiceError('unavailable', 'The provider lock is being changed concurrently; retry.');
        await new Promise((resolve) => setTimeout(resolve, randomInt(0, 5 * (race + 1) + 1)));
      }
    }
  }
}
