import fc from 'fast-check';
import {
  acquire,
  attemptFailed,
  attemptSucceeded,
  AUDIT_LIMIT,
  DEFAULT_COOLDOWN_MS,
  DEFAULT_PROVIDER_ORDER,
  describe as describeLock,
  FAILURE_KINDS,
  type FailureKind,
  HEURISTIC_PROVIDER,
  initialLockState,
  type LockPolicy,
  type LockState,
  nextInLine,
  recover,
  release,
} from '../../../shared/domain/analysis/provider-lock';

const ORDER = ['openai', 'gemini', 'groq'];
const T0 = 1_700_000_000_000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function locked(provider = 'openai', order: LockPolicy | readonly string[] = ORDER): LockState {
  return acquire(initialLockState(), provider, 'start', T0, order).state;
}

function failTimes(
  state: LockState,
  provider: string,
  kind: FailureKind,
  n: number,
  now = T0,
  order: LockPolicy | readonly string[] = ORDER,
) {
  let s = state;
  let last: ReturnType<typeof attemptFailed> | undefined;
  for (let i = 0; i < n; i++) {
    last = attemptFailed(s, provider, kind, now, order);
    s = last.state;
  }
  return last!;
}

describe('acquire / release', () => {
  it('acquire takes the lock and audits it', () => {
    const { state, rejected } = acquire(initialLockState(), 'gemini', 'admin choice', T0, ORDER);
    expect(rejected).toBeUndefined();
    expect(state).toMatchObject({ active: 'gemini', reason: 'admin choice', since: T0 });
    expect(state.audit).toEqual([
      { at: T0, type: 'acquire', provider: 'gemini', from: null, reason: 'admin choice' },
    ]);
  });

  it('re-acquiring the active provider keeps `since`', () => {
    const s = acquire(locked('openai'), 'openai', 'again', T0 + 5, ORDER).state;
    expect(s).toMatchObject({ active: 'openai', since: T0, reason: 'again' });
  });

  it('refuses unknown, unconfigured and cooling-down providers, leaving the lock as it was', () => {
    const policy: LockPolicy = { order: ORDER, configured: ['openai', 'groq'] };
    const s = locked('openai', policy);
    expect(acquire(s, 'mistral', 'x', T0, policy)).toMatchObject({
      rejected: { provider: 'mistral', reason: 'unknown-provider' },
      state: { active: 'openai' },
    });
    expect(acquire(s, 'gemini', 'x', T0, policy).rejected?.reason).toBe('not-configured');
    const tripped = attemptFailed(s, 'groq', 'auth', T0, policy).state;
    const r = acquire(tripped, 'groq', 'x', T0 + 1, policy);
    expect(r.rejected?.reason).toBe('cooling-down');
    expect(r.state.active).toBe('openai');
    expect(r.state.audit.at(-1)).toMatchObject({
      type: 'acquire-rejected',
      provider: 'groq',
      reason: 'cooling-down',
    });
  });

  it('the heuristic can always be acquired', () => {
    expect(acquire(initialLockState(), HEURISTIC_PROVIDER, 'manual', T0, ORDER).state.active).toBe(
      HEURISTIC_PROVIDER,
    );
  });

  it('release clears the lock and audits it', () => {
    const { state } = release(locked('openai'), 'maintenance', T0 + 10);
    expect(state).toMatchObject({ active: null, reason: 'maintenance', since: T0 + 10 });
    expect(state.audit.at(-1)).toEqual({
      at: T0 + 10,
      type: 'release',
      provider: 'openai',
      reason: 'maintenance',
    });
  });
});

describe('failover rules', () => {
  it('an authentication error fails over at once and starts the cooldown', () => {
    const r = attemptFailed(locked('openai'), 'openai', 'auth', T0 + 1, ORDER, '401 invalid key');
    expect(r.failedOver).toEqual({ from: 'openai', to: 'gemini', reason: 'authentication error' });
    expect(r.tripped).toEqual({
      provider: 'openai',
      kind: 'auth',
      cooldownUntil: T0 + 1 + DEFAULT_COOLDOWN_MS,
    });
    expect(r.state).toMatchObject({ active: 'gemini', since: T0 + 1 });
    expect(r.state.providers.openai).toEqual({
      consecutiveFailures: 1,
      rateLimitStreak: 0,
      healthy: false,
      cooldownUntil: T0 + 1 + DEFAULT_COOLDOWN_MS,
      lastError: { kind: 'auth', at: T0 + 1, message: '401 invalid key' },
    });
    expect(r.state.audit.slice(-2).map((e) => e.type)).toEqual(['tripped', 'failover']);
  });

  it('rate limits fail over after 3 consecutive ones', () => {
    let s = locked();
    for (let i = 1; i <= 2; i++) {
      const r = attemptFailed(s, 'openai', 'rate-limit', T0 + i, ORDER);
      expect(r.failedOver).toBeUndefined();
      expect(r.state.providers.openai).toMatchObject({
        rateLimitStreak: i,
        consecutiveFailures: i,
        healthy: true,
      });
      s = r.state;
    }
    const r = attemptFailed(s, 'openai', 'rate-limit', T0 + 3, ORDER);
    expect(r.failedOver).toEqual({ from: 'openai', to: 'gemini', reason: '3 consecutive rate-limit errors' });
  });

  it('the rate-limit threshold is separate from the general failure threshold', () => {
    const policy: LockPolicy = { order: ORDER, failureThreshold: 5, rateLimitThreshold: 3 };
    expect(
      failTimes(locked('openai', policy), 'openai', 'rate-limit', 3, T0, policy).failedOver,
    ).toBeDefined();
    const s = locked('openai', policy);
    let st = s;
    for (const kind of ['server', 'server', 'server', 'server'] as const) {
      const r = attemptFailed(st, 'openai', kind, T0, policy);
      expect(r.failedOver).toBeUndefined();
      st = r.state;
    }
    expect(attemptFailed(st, 'openai', 'timeout', T0, policy).failedOver?.to).toBe('gemini');
  });

  it.each(['server', 'timeout', 'invalid-output', 'network'] as const)(
    '%s failures fail over after the default 3 consecutive',
    (kind) => {
      const two = failTimes(locked(), 'openai', kind, 2);
      expect(two.failedOver).toBeUndefined();
      const three = attemptFailed(two.state, 'openai', kind, T0, ORDER);
      expect(three.failedOver).toEqual({
        from: 'openai',
        to: 'gemini',
        reason: `3 consecutive failures (last: ${kind})`,
      });
    },
  );

  it('mixed kinds count together; a different kind breaks a rate-limit streak', () => {
    let s = locked();
    s = attemptFailed(s, 'openai', 'rate-limit', T0, ORDER).state;
    s = attemptFailed(s, 'openai', 'server', T0, ORDER).state;
    expect(s.providers.openai).toMatchObject({ consecutiveFailures: 2, rateLimitStreak: 0 });
    expect(attemptFailed(s, 'openai', 'rate-limit', T0, ORDER).failedOver?.reason).toBe(
      '3 consecutive failures (last: rate-limit)',
    );
  });

  it('the failure threshold is configurable', () => {
    const policy: LockPolicy = { order: ORDER, failureThreshold: 1 };
    expect(attemptFailed(locked('openai', policy), 'openai', 'timeout', T0, policy).failedOver?.to).toBe(
      'gemini',
    );
  });

  it('a success resets the counts', () => {
    let s = failTimes(locked(), 'openai', 'server', 2).state;
    s = attemptSucceeded(s, 'openai', T0).state;
    expect(s.providers.openai).toMatchObject({ consecutiveFailures: 0, rateLimitStreak: 0 });
    const r = failTimes(s, 'openai', 'server', 2);
    expect(r.failedOver).toBeUndefined();
    expect(r.state.active).toBe('openai');
    // A success for an unseen provider just records a healthy entry.
    expect(attemptSucceeded(initialLockState(), 'groq', T0).state.providers.groq).toEqual({
      consecutiveFailures: 0,
      rateLimitStreak: 0,
      healthy: true,
    });
  });

  it('a provider that does not hold the lock is tripped without a failover', () => {
    const r = attemptFailed(locked('openai'), 'gemini', 'auth', T0, ORDER);
    expect(r.failedOver).toBeUndefined();
    expect(r.tripped?.provider).toBe('gemini');
    expect(r.state.active).toBe('openai');
    expect(nextInLine(r.state, ORDER, T0)).toBe('openai');
    expect(nextInLine(r.state, ORDER, T0, 'openai')).toBe('groq');
  });

  it('failures while already cooling down do not extend the cooldown', () => {
    const s = attemptFailed(locked('openai'), 'openai', 'auth', T0, ORDER).state;
    const again = attemptFailed(s, 'openai', 'auth', T0 + 1000, ORDER);
    expect(again.tripped).toBeUndefined();
    expect(again.state.providers.openai?.cooldownUntil).toBe(T0 + DEFAULT_COOLDOWN_MS);
    expect(again.state.providers.openai?.consecutiveFailures).toBe(2);
  });

  it('cascades through the order down to the heuristic, skipping cooling and unconfigured providers', () => {
    const policy: LockPolicy = { order: ORDER, configured: ['openai', 'groq'] };
    let r = attemptFailed(locked('openai', policy), 'openai', 'auth', T0, policy);
    expect(r.failedOver?.to).toBe('groq'); // gemini is not configured
    r = attemptFailed(r.state, 'groq', 'auth', T0 + 1, policy);
    expect(r.failedOver).toEqual({ from: 'groq', to: HEURISTIC_PROVIDER, reason: 'authentication error' });
  });

  it('the heuristic never cools down and never fails over', () => {
    let s = locked(HEURISTIC_PROVIDER);
    for (let i = 0; i < 10; i++) {
      const r = attemptFailed(s, HEURISTIC_PROVIDER, 'auth', T0 + i, ORDER);
      expect(r.failedOver).toBeUndefined();
      expect(r.tripped).toBeUndefined();
      s = r.state;
    }
    expect(s.active).toBe(HEURISTIC_PROVIDER);
    expect(s.providers[HEURISTIC_PROVIDER]?.cooldownUntil).toBeUndefined();
  });

  it('with a zero cooldown the failing provider is still left', () => {
    const policy: LockPolicy = { order: ORDER, cooldownMs: 0 };
    const r = attemptFailed(locked('openai', policy), 'openai', 'auth', T0, policy);
    expect(r.failedOver?.to).toBe('gemini');
  });

  it('rejects unknown failure kinds and bad policies', () => {
    expect(() => attemptFailed(locked(), 'openai', 'oops' as FailureKind, T0, ORDER)).toThrow(RangeError);
    expect(() =>
      attemptFailed(locked(), 'openai', 'auth', T0, { order: ORDER, failureThreshold: 0 }),
    ).toThrow(RangeError);
    expect(() => nextInLine(locked(), { order: ORDER, cooldownMs: -1 }, T0)).toThrow(RangeError);
  });
});

describe('cooldown and recovery', () => {
  it('a failed provider is not chosen until its cooldown has passed, then recovers', () => {
    const tripped = attemptFailed(locked('openai'), 'openai', 'auth', T0, ORDER).state;
    expect(nextInLine(tripped, ORDER, T0 + DEFAULT_COOLDOWN_MS - 1)).toBe('gemini');
    expect(nextInLine(tripped, ORDER, T0 + DEFAULT_COOLDOWN_MS)).toBe('openai');

    const back = acquire(tripped, 'openai', 'recovered', T0 + DEFAULT_COOLDOWN_MS, ORDER);
    expect(back.rejected).toBeUndefined();
    expect(back.state.active).toBe('openai');
    expect(back.state.providers.openai).toEqual({
      consecutiveFailures: 0,
      rateLimitStreak: 0,
      healthy: true,
      lastError: { kind: 'auth', at: T0 },
    });
    expect(back.state.audit.slice(-2)).toEqual([
      { at: T0 + DEFAULT_COOLDOWN_MS, type: 'recovered', provider: 'openai' },
      {
        at: T0 + DEFAULT_COOLDOWN_MS,
        type: 'acquire',
        provider: 'openai',
        from: 'gemini',
        reason: 'recovered',
      },
    ]);
  });

  it('the cooldown is configurable', () => {
    const policy: LockPolicy = { order: ORDER, cooldownMs: 1000 };
    const s = attemptFailed(locked('openai', policy), 'openai', 'auth', T0, policy).state;
    expect(s.providers.openai?.cooldownUntil).toBe(T0 + 1000);
    expect(nextInLine(s, policy, T0 + 999)).toBe('gemini');
    expect(nextInLine(s, policy, T0 + 1000)).toBe('openai');
  });

  it('a success during the cooldown resets counts but does not lift it', () => {
    const s = attemptFailed(locked('openai'), 'openai', 'auth', T0, ORDER).state;
    const after = attemptSucceeded(s, 'openai', T0 + 1).state;
    expect(after.providers.openai).toMatchObject({ consecutiveFailures: 0, healthy: false });
    expect(nextInLine(after, ORDER, T0 + 1)).toBe('gemini');
  });

  it('recover() returns the same object when nothing is due', () => {
    const s = locked();
    expect(recover(s, T0 + 1)).toBe(s);
  });
});

describe('nextInLine', () => {
  it('follows the order, skips unconfigured and cooling providers, ends with the heuristic', () => {
    const s = initialLockState();
    expect(nextInLine(s, ORDER, T0)).toBe('openai');
    expect(nextInLine(s, DEFAULT_PROVIDER_ORDER, T0)).toBe('openai');
    expect(nextInLine(s, { order: ORDER, configured: ['groq'] }, T0)).toBe('groq');
    expect(nextInLine(s, { order: ORDER, configured: [] }, T0)).toBe(HEURISTIC_PROVIDER);
    expect(nextInLine(s, [], T0)).toBe(HEURISTIC_PROVIDER);
    // The heuristic is always last, wherever the order puts it.
    expect(nextInLine(s, [HEURISTIC_PROVIDER, 'groq'], T0)).toBe('groq');
  });
});

describe('describe', () => {
  it("gives each provider's state and cooldown left, in priority order", () => {
    let s = attemptFailed(locked('openai'), 'openai', 'auth', T0, ORDER).state;
    s = attemptFailed(s, 'gemini', 'server', T0, ORDER).state;
    const d = describeLock(s, { order: ORDER, configured: ['openai', 'gemini'] }, T0 + 60_000);
    expect(d).toMatchObject({ active: 'gemini', next: 'gemini', since: T0 });
    expect(d.providers.map((p) => p.name)).toEqual(['openai', 'gemini', 'groq', HEURISTIC_PROVIDER]);
    expect(d.providers[0]).toMatchObject({
      name: 'openai',
      position: 1,
      configured: true,
      active: false,
      healthy: false,
      coolingDown: true,
      cooldownUntil: T0 + DEFAULT_COOLDOWN_MS,
      cooldownRemainingMs: DEFAULT_COOLDOWN_MS - 60_000,
      lastError: { kind: 'auth', at: T0 },
    });
    expect(d.providers[1]).toMatchObject({
      active: true,
      healthy: true,
      consecutiveFailures: 1,
      coolingDown: false,
    });
    expect(d.providers[2]).toMatchObject({ configured: false, cooldownRemainingMs: 0, lastError: null });
    expect(d.providers[3]).toMatchObject({ name: HEURISTIC_PROVIDER, position: 4, configured: true });

    const later = describeLock(s, ORDER, T0 + DEFAULT_COOLDOWN_MS);
    expect(later.providers[0]).toMatchObject({ healthy: true, coolingDown: false, cooldownRemainingMs: 0 });
    expect(later.next).toBe('openai');
  });

  it('lists providers known to the state but no longer in the order', () => {
    const s = attemptFailed(initialLockState(), 'legacy', 'server', T0, ORDER).state;
    expect(describeLock(s, ORDER, T0).providers.map((p) => [p.name, p.configured])).toEqual([
      ['openai', true],
      ['gemini', true],
      ['groq', true],
      ['legacy', false],
      [HEURISTIC_PROVIDER, true],
    ]);
  });
});

describe('purity and the audit trail', () => {
  it('never mutates its input and produces JSON-round-trippable state', () => {
    const frozen = deepFreeze(failTimes(locked(), 'openai', 'server', 2).state);
    const before = JSON.stringify(frozen);
    const results = [
      acquire(frozen, 'gemini', 'x', T0 + 1, ORDER),
      release(frozen, 'x', T0 + 1),
      attemptSucceeded(frozen, 'openai', T0 + 1),
      attemptFailed(frozen, 'openai', 'server', T0 + 1, ORDER),
      attemptFailed(frozen, 'openai', 'auth', T0 + DEFAULT_COOLDOWN_MS * 2, ORDER),
    ];
    describeLock(frozen, ORDER, T0 + 1);
    expect(JSON.stringify(frozen)).toBe(before);
    for (const r of results) expect(JSON.parse(JSON.stringify(r.state))).toEqual(r.state);
  });

  it(`keeps the last ${AUDIT_LIMIT} audit entries, dropping the oldest`, () => {
    let s = initialLockState();
    const total = AUDIT_LIMIT + 5;
    for (let i = 0; i < total; i++) {
      s = acquire(s, i % 2 === 0 ? 'openai' : 'gemini', `#${i}`, T0 + i, ORDER).state;
    }
    expect(s.audit).toHaveLength(AUDIT_LIMIT);
    expect(s.audit[0]).toMatchObject({ at: T0 + 5, reason: '#5' });
    expect(s.audit.at(-1)).toMatchObject({ at: T0 + total - 1, reason: `#${total - 1}` });
  });
});

describe('property: the lock only ever goes to a listed provider that is not cooling down', () => {
  const names = ['openai', 'gemini', 'groq', 'cloudflare', 'huggingface', HEURISTIC_PROVIDER, 'rogue'];
  const provider = fc.constantFrom(...names);
  const event = fc.oneof(
    fc.record({ type: fc.constant('acquire' as const), provider }),
    fc.record({ type: fc.constant('release' as const) }),
    fc.record({ type: fc.constant('success' as const), provider }),
    fc.record({ type: fc.constant('failure' as const), provider, kind: fc.constantFrom(...FAILURE_KINDS) }),
  );
  const step = fc.record({ event, advanceMs: fc.integer({ min: 0, max: 200_000 }) });
  const policyArb = fc.record({
    order: fc
      .subarray(['openai', 'gemini', 'groq', 'cloudflare', 'huggingface'])
      .chain((o) => fc.shuffledSubarray(o, { minLength: o.length })),
    configuredMask: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    failureThreshold: fc.integer({ min: 1, max: 4 }),
    rateLimitThreshold: fc.integer({ min: 1, max: 4 }),
    cooldownMs: fc.integer({ min: 0, max: 600_000 }),
  });

  it('holds for arbitrary event sequences', () => {
    fc.assert(
      fc.property(policyArb, fc.array(step, { maxLength: 60 }), (p, steps) => {
        const policy: LockPolicy = {
          order: p.order,
          configured: p.order.filter((_, i) => p.configuredMask[i]),
          failureThreshold: p.failureThreshold,
          rateLimitThreshold: p.rateLimitThreshold,
          cooldownMs: p.cooldownMs,
        };
        const allowed = new Set([...p.order, HEURISTIC_PROVIDER]);
        let state = initialLockState();
        let now = T0;
        for (const { event, advanceMs } of steps) {
          now += advanceMs;
          const before = deepFreeze(state);
          const result =
            event.type === 'acquire'
              ? acquire(before, event.provider, 'prop', now, policy)
              : event.type === 'release'
                ? release(before, 'prop', now)
                : event.type === 'success'
                  ? attemptSucceeded(before, event.provider, now)
                  : attemptFailed(before, event.provider, event.kind, now, policy);
          state = result.state;
          if (state.active !== null) {
            expect(allowed.has(state.active)).toBe(true);
            expect(state.active === HEURISTIC_PROVIDER || policy.configured?.includes(state.active)).toBe(
              true,
            );
          }
          if (state.active !== null && state.active !== before.active) {
            // Chosen at `now`: it must not have been cooling down at that time, before or after.
            const cooldown = before.providers[state.active]?.cooldownUntil;
            expect(cooldown === undefined || cooldown <= now).toBe(true);
            const cooldownAfter = state.providers[state.active]?.cooldownUntil;
            expect(cooldownAfter === undefined || cooldownAfter <= now).toBe(true);
          }
          if (result.failedOver) expect(result.failedOver.to).toBe(state.active);
          expect(state.audit.length).toBeLessThanOrEqual(AUDIT_LIMIT);
        }
      }),
      { numRuns: 300 },
    );
  });
});
