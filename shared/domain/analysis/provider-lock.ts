/**
 * The single-provider lock as a pure state machine (seed 003: one AI provider at a time, no parallel
 * or ensemble calls, failover only on explicit conditions).
 *
 * Every function takes the current state and `now` (epoch ms), returns a new state plus the decision,
 * and never mutates its input. The state is plain JSON-serialisable data, so a service can keep it in
 * any document store (with its own optimistic concurrency).
 *
 * Rules:
 * - An authentication error trips the provider at once.
 * - Rate-limit/quota errors trip it after `rateLimitThreshold` consecutive ones (default 3).
 * - Any failure (server 5xx, timeout, invalid output, network, and rate limits too) counts towards
 *   `failureThreshold` consecutive failures (default 3), which also trips it.
 * - A success resets both counts.
 * - A tripped provider is unhealthy and cools down for `cooldownMs` (default 300 s); it cannot be
 *   chosen (by failover or acquire) until the cooldown has passed, when it recovers: healthy again,
 *   counts reset. Recovery is applied by every event at its `now` (and shown by describe()).
 * - If the tripped provider held the lock, the lock fails over to nextInLine(): the first provider in
 *   the configured order that is configured and not cooling down, else HEURISTIC_PROVIDER.
 * - HEURISTIC_PROVIDER (the deterministic local model) is always last and never cools down.
 */

// ---------------------------------------------------------------------------------------------------
// Constants

/** The always-available local fallback; last in every order, never cools down. */
export const HEURISTIC_PROVIDER = 'heuristic';

/** Seed 003 priority order. */
export const DEFAULT_PROVIDER_ORDER: readonly string[] = Object.freeze([
  'openai',
  'gemini',
  'groq',
  'cloudflare',
  'huggingface',
]);

/** Consecutive failures of any kind that trip a provider (issue 5 default). */
export const DEFAULT_FAILURE_THRESHOLD = 3;
/** Consecutive rate-limit/quota failures that trip a provider (issue 5 / seed 003: "≥ 3 failures"). */
export const DEFAULT_RATE_LIMIT_THRESHOLD = 3;
/** Cooldown of a tripped provider before it may be chosen again (issue 5 default: 300 s). */
export const DEFAULT_COOLDOWN_MS = 300_000;
/** Audit entries kept; the oldest are dropped (seed 003: "audit trail (last 1000 events)"). */
export const AUDIT_LIMIT = 1000;

export const FAILURE_KINDS = [
  'auth',
  'rate-limit',
  'server',
  'timeout',
  'invalid-output',
  'network',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

// ---------------------------------------------------------------------------------------------------
// Types

export interface ProviderHealth {
  consecutiveFailures: number;
  /** Consecutive rate-limit failures (another kind of failure or a success breaks the streak). */
  rateLimitStreak: number;
  /** Epoch ms until which the provider may not be chosen; absent when not cooling down. */
  cooldownUntil?: number;
  lastError?: { kind: FailureKind; at: number; message?: string };
  /** The health monitor's last check of this provider (see healthChecked). */
  lastCheck?: HealthCheckRecord;
  healthy: boolean;
}

/** What one health check of a provider found. */
export type HealthCheckOutcome =
  { ok: true; latencyMs: number } | { ok: false; latencyMs: number; kind: FailureKind; message?: string };

export type HealthCheckRecord = HealthCheckOutcome & { at: number };

export type AuditType =
  'acquire' | 'acquire-rejected' | 'release' | 'tripped' | 'failover' | 'recovered' | 'health-check';

export interface AuditEntry {
  at: number;
  type: AuditType;
  provider?: string;
  from?: string | null;
  to?: string;
  reason?: string;
  kind?: FailureKind;
}

export interface LockState {
  active: string | null;
  reason: string | null;
  /** Epoch ms of the last change of `active`; null before the first. */
  since: number | null;
  providers: Record<string, ProviderHealth>;
  /** Oldest first, at most AUDIT_LIMIT. */
  audit: AuditEntry[];
}

export interface LockPolicy {
  /** Priority order. HEURISTIC_PROVIDER may be omitted: it is always appended (and moved) last. */
  order: readonly string[];
  /** Providers that have credentials/config; default: every provider in `order`. */
  configured?: readonly string[];
  failureThreshold?: number;
  rateLimitThreshold?: number;
  cooldownMs?: number;
}

/** A LockPolicy, or just the order (every provider configured, default thresholds). */
export type PolicyInput = LockPolicy | readonly string[];

export interface FailoverDecision {
  from: string;
  to: string;
  reason: string;
}

export interface LockResult {
  state: LockState;
  failedOver?: FailoverDecision;
  /** Set when acquire() refused to take the lock. */
  rejected?: { provider: string; reason: 'unknown-provider' | 'not-configured' | 'cooling-down' };
  /** Set when attemptFailed() tripped the provider (it is now cooling down). */
  tripped?: { provider: string; kind: FailureKind; cooldownUntil: number };
}

interface ResolvedPolicy {
  order: string[];
  configured: ReadonlySet<string>;
  failureThreshold: number;
  rateLimitThreshold: number;
  cooldownMs: number;
}

// ---------------------------------------------------------------------------------------------------
// Helpers

export function initialLockState(): LockState {
  return { active: null, reason: null, since: null, providers: {}, audit: [] };
}

function resolvePolicy(input: PolicyInput): ResolvedPolicy {
  const policy: LockPolicy = isOrder(input) ? { order: input } : input;
  const order = [...new Set(policy.order.filter((p) => p !== HEURISTIC_PROVIDER)), HEURISTIC_PROVIDER];
  const configured = new Set([...(policy.configured ?? policy.order), HEURISTIC_PROVIDER]);
  const failureThreshold = policy.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
  const rateLimitThreshold = policy.rateLimitThreshold ?? DEFAULT_RATE_LIMIT_THRESHOLD;
  const cooldownMs = policy.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  if (!(Number.isInteger(failureThreshold) && failureThreshold >= 1)) {
    throw new RangeError('failureThreshold must be a whole number ≥ 1');
  }
  if (!(Number.isInteger(rateLimitThreshold) && rateLimitThreshold >= 1)) {
    throw new RangeError('rateLimitThreshold must be a whole number ≥ 1');
  }
  if (!(Number.isFinite(cooldownMs) && cooldownMs >= 0)) throw new RangeError('cooldownMs must be ≥ 0');
  return { order, configured, failureThreshold, rateLimitThreshold, cooldownMs };
}

function isOrder(input: PolicyInput): input is readonly string[] {
  return Array.isArray(input);
}

const freshHealth = (): ProviderHealth => ({ consecutiveFailures: 0, rateLimitStreak: 0, healthy: true });

function healthOf(state: LockState, provider: string): ProviderHealth {
  return Object.prototype.hasOwnProperty.call(state.providers, provider)
    ? (state.providers[provider] ?? freshHealth())
    : freshHealth();
}

function isCoolingDown(health: ProviderHealth, now: number): boolean {
  return health.cooldownUntil !== undefined && health.cooldownUntil > now;
}

function withAudit(audit: readonly AuditEntry[], entries: readonly AuditEntry[]): AuditEntry[] {
  const next = [...audit, ...entries];
  return next.length > AUDIT_LIMIT ? next.slice(next.length - AUDIT_LIMIT) : next;
}

function copyHealth(h: ProviderHealth): ProviderHealth {
  const copy: ProviderHealth = {
    consecutiveFailures: h.consecutiveFailures,
    rateLimitStreak: h.rateLimitStreak,
    healthy: h.healthy,
  };
  if (h.cooldownUntil !== undefined) copy.cooldownUntil = h.cooldownUntil;
  if (h.lastError !== undefined) copy.lastError = { ...h.lastError };
  if (h.lastCheck !== undefined) copy.lastCheck = { ...h.lastCheck };
  return copy;
}

/**
 * Applies health recovery at `now`: every provider whose cooldown has passed becomes healthy with its
 * counts reset (its lastError is kept for diagnosis), with a 'recovered' audit entry. Returns the same
 * state object when nothing changed.
 */
export function recover(state: LockState, now: number): LockState {
  const recovered = Object.entries(state.providers)
    .filter(([, h]) => h.cooldownUntil !== undefined && h.cooldownUntil <= now)
    .map(([name]) => name)
    .sort();
  if (recovered.length === 0) return state;
  const providers: Record<string, ProviderHealth> = { ...state.providers };
  for (const name of recovered) {
    const h = providers[name];
    const next: ProviderHealth = { consecutiveFailures: 0, rateLimitStreak: 0, healthy: true };
    if (h?.lastError !== undefined) next.lastError = { ...h.lastError };
    if (h?.lastCheck !== undefined) next.lastCheck = { ...h.lastCheck };
    providers[name] = next;
  }
  return {
    ...state,
    providers,
    audit: withAudit(
      state.audit,
      recovered.map((provider) => ({ at: now, type: 'recovered' as const, provider })),
    ),
  };
}

// ---------------------------------------------------------------------------------------------------
// Queries

/**
 * The provider the lock would go to now: the first in the order that is configured and not cooling
 * down at `now`, else HEURISTIC_PROVIDER. `exclude` skips one provider (e.g. the one failing over).
 */
export function nextInLine(state: LockState, order: PolicyInput, now: number, exclude?: string): string {
  return pickNext(state, resolvePolicy(order), now, exclude);
}

function pickNext(state: LockState, policy: ResolvedPolicy, now: number, exclude?: string): string {
  for (const name of policy.order) {
    if (name === HEURISTIC_PROVIDER) break;
    if (name === exclude || !policy.configured.has(name)) continue;
    if (!isCoolingDown(healthOf(state, name), now)) return name;
  }
  return HEURISTIC_PROVIDER;
}

export interface ProviderDescription {
  name: string;
  /** 1-based place in the priority order (heuristic last). */
  position: number;
  configured: boolean;
  active: boolean;
  healthy: boolean;
  coolingDown: boolean;
  cooldownUntil: number | null;
  cooldownRemainingMs: number;
  consecutiveFailures: number;
  rateLimitStreak: number;
  lastError: ProviderHealth['lastError'] | null;
  lastCheck: HealthCheckRecord | null;
}

export interface LockDescription {
  active: string | null;
  reason: string | null;
  since: number | null;
  /** Where the lock would go now if it had to move (see nextInLine). */
  next: string;
  providers: ProviderDescription[];
}

/** Each provider's state at `now`, in priority order (the body of GET /api/providers). */
export function describe(state: LockState, order: PolicyInput, now: number): LockDescription {
  const policy = resolvePolicy(order);
  const current = recover(state, now);
  const names = [
    ...policy.order.filter((n) => n !== HEURISTIC_PROVIDER),
    ...Object.keys(current.providers)
      .filter((n) => !policy.order.includes(n))
      .sort(),
    HEURISTIC_PROVIDER,
  ];
  return {
    active: current.active,
    reason: current.reason,
    since: current.since,
    next: pickNext(current, policy, now),
    providers: names.map((name, i) => {
      const h = healthOf(current, name);
      const cooling = isCoolingDown(h, now);
      return {
        name,
        position: i + 1,
        configured: policy.configured.has(name) && policy.order.includes(name),
        active: current.active === name,
        healthy: h.healthy,
        coolingDown: cooling,
        cooldownUntil: cooling ? (h.cooldownUntil ?? null) : null,
        cooldownRemainingMs: cooling && h.cooldownUntil !== undefined ? h.cooldownUntil - now : 0,
        consecutiveFailures: h.consecutiveFailures,
        rateLimitStreak: h.rateLimitStreak,
        lastError: h.lastError ? { ...h.lastError } : null,
        lastCheck: h.lastCheck ? { ...h.lastCheck } : null,
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Events

/** Takes the lock for `provider` (an explicit choice, e.g. an admin's or the service's first pick). */
export function acquire(
  state: LockState,
  provider: string,
  reason: string,
  now: number,
  order: PolicyInput,
): LockResult {
  const policy = resolvePolicy(order);
  const current = recover(state, now);
  let refusal: NonNullable<LockResult['rejected']>['reason'] | null = null;
  if (!policy.order.includes(provider)) refusal = 'unknown-provider';
  else if (!policy.configured.has(provider)) refusal = 'not-configured';
  else if (isCoolingDown(healthOf(current, provider), now)) refusal = 'cooling-down';
  if (refusal !== null) {
    return {
      state: {
        ...current,
        audit: withAudit(current.audit, [{ at: now, type: 'acquire-rejected', provider, reason: refusal }]),
      },
      rejected: { provider, reason: refusal },
    };
  }
  const changed = current.active !== provider;
  return {
    state: {
      ...current,
      active: provider,
      reason,
      since: changed ? now : current.since,
      audit: withAudit(current.audit, [{ at: now, type: 'acquire', provider, from: current.active, reason }]),
    },
  };
}

/** Releases the lock (explicit, manual); nothing is active until the next acquire. */
export function release(state: LockState, reason: string, now: number): LockResult {
  const current = recover(state, now);
  return {
    state: {
      ...current,
      active: null,
      reason,
      since: now,
      audit: withAudit(current.audit, [
        current.active === null
          ? { at: now, type: 'release', reason }
          : { at: now, type: 'release', provider: current.active, reason },
      ]),
    },
  };
}

/** A call to `provider` succeeded: its failure counts reset (a cooldown in force is not lifted). */
export function attemptSucceeded(state: LockState, provider: string, now: number): LockResult {
  const current = recover(state, now);
  const h = healthOf(current, provider);
  if (h.consecutiveFailures === 0 && h.rateLimitStreak === 0 && current.providers[provider] !== undefined) {
    return { state: current };
  }
  const next = copyHealth(h);
  next.consecutiveFailures = 0;
  next.rateLimitStreak = 0;
  return { state: { ...current, providers: { ...current.providers, [provider]: next } } };
}

/**
 * A call to `provider` failed with `kind`. Counts it, trips the provider when a rule says so (cooldown,
 * unhealthy) and, if it held the lock, fails over to nextInLine().
 */
export function attemptFailed(
  state: LockState,
  provider: string,
  kind: FailureKind,
  now: number,
  order: PolicyInput,
  message?: string,
): LockResult {
  if (!FAILURE_KINDS.includes(kind)) throw new RangeError(`unknown failure kind: ${String(kind)}`);
  const policy = resolvePolicy(order);
  const current = recover(state, now);
  const h = copyHealth(healthOf(current, provider));
  h.consecutiveFailures += 1;
  h.rateLimitStreak = kind === 'rate-limit' ? h.rateLimitStreak + 1 : 0;
  h.lastError = message === undefined ? { kind, at: now } : { kind, at: now, message };

  const trips =
    provider !== HEURISTIC_PROVIDER &&
    !isCoolingDown(h, now) &&
    (kind === 'auth' ||
      h.rateLimitStreak >= policy.rateLimitThreshold ||
      h.consecutiveFailures >= policy.failureThreshold);

  if (!trips) {
    return { state: { ...current, providers: { ...current.providers, [provider]: h } } };
  }

  const cooldownUntil = now + policy.cooldownMs;
  h.healthy = false;
  h.cooldownUntil = cooldownUntil;
  const reason = tripReason(kind, h, policy);
  const providers = { ...current.providers, [provider]: h };
  const audit: AuditEntry[] = [{ at: now, type: 'tripped', provider, kind, reason }];
  const tripped = { provider, kind, cooldownUntil };

  if (current.active !== provider) {
    return { state: { ...current, providers, audit: withAudit(current.audit, audit) }, tripped };
  }
  const afterTrip: LockState = { ...current, providers };
  const to = pickNext(afterTrip, policy, now, provider);
  const failoverReason = `failover from ${provider}: ${reason}`;
  audit.push({ at: now, type: 'failover', from: provider, to, reason: failoverReason, kind });
  return {
    state: {
      ...afterTrip,
      active: to,
      reason: failoverReason,
      since: now,
      audit: withAudit(current.audit, audit),
    },
    failedOver: { from: provider, to, reason },
    tripped,
  };
}

function tripReason(kind: FailureKind, h: ProviderHealth, policy: ResolvedPolicy): string {
  if (kind === 'auth') return 'authentication error';
  if (h.rateLimitStreak >= policy.rateLimitThreshold)
    return `${h.rateLimitStreak} consecutive rate-limit errors`;
  return `${h.consecutiveFailures} consecutive failures (last: ${kind})`;
}

/**
 * The health monitor checked `provider` with a cheap call (seed 003: periodic health checks with
 * failover on detection). The outcome goes through the same rules as a real call: a failure is
 * counted (and may trip the provider and fail the lock over), a success resets the counts. The
 * check is remembered as the provider's `lastCheck`; the audit trail gets a `health-check` entry
 * when the check changed something (a failure counted, counts reset), so routine successes do not
 * push the admin's entries out of the bounded trail.
 */
export function healthChecked(
  state: LockState,
  provider: string,
  outcome: HealthCheckOutcome,
  now: number,
  order: PolicyInput,
): LockResult {
  const lastCheck: HealthCheckRecord = { ...outcome, at: now };
  const withCheck = (result: LockResult): LockResult => {
    const h = result.state.providers[provider];
    if (!h) return result;
    return {
      ...result,
      state: { ...result.state, providers: { ...result.state.providers, [provider]: { ...h, lastCheck } } },
    };
  };
  const current = recover(state, now);
  if (outcome.ok) {
    const before = healthOf(current, provider);
    const changed = before.consecutiveFailures > 0 || before.rateLimitStreak > 0;
    const result = withCheck(attemptSucceeded(current, provider, now));
    if (!changed) return result;
    const entry: AuditEntry = {
      at: now,
      type: 'health-check',
      provider,
      reason: `check ok in ${Math.round(outcome.latencyMs)} ms; failure counts reset`,
    };
    return { ...result, state: { ...result.state, audit: withAudit(result.state.audit, [entry]) } };
  }
  const entry: AuditEntry = {
    at: now,
    type: 'health-check',
    provider,
    kind: outcome.kind,
    reason: `check failed (${outcome.kind})${outcome.message ? `: ${outcome.message.slice(0, 200)}` : ''}`,
  };
  const noted = { ...current, audit: withAudit(current.audit, [entry]) };
  return withCheck(attemptFailed(noted, provider, outcome.kind, now, order, outcome.message));
}
