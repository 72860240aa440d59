import {
  healthChecked,
  initialLockState,
  acquire,
  type LockPolicy,
  type LockState,
} from '../../../shared/domain/analysis/provider-lock';

const policy: LockPolicy = { order: ['openai', 'gemini'], failureThreshold: 3, cooldownMs: 300_000 };
const T0 = 1_000_000;
const failure = { ok: false as const, latencyMs: 12, kind: 'server' as const, message: '500 boom' };
const success = { ok: true as const, latencyMs: 34 };

function held(): LockState {
  return acquire(initialLockState(), 'openai', 'test', T0, policy).state;
}

describe('healthChecked: a health check goes through the lock rules', () => {
  it('a routine success only records the check (no audit entry)', () => {
    const { state } = healthChecked(held(), 'openai', success, T0 + 1, policy);
    expect(state.providers.openai?.lastCheck).toEqual({ ...success, at: T0 + 1 });
    expect(state.audit.map((e) => e.type)).toEqual(['acquire']);
  });

  it('failures are counted and audited; the third trips the provider and fails the lock over', () => {
    let state = held();
    let result;
    for (let i = 1; i <= 3; i++) {
      result = healthChecked(state, 'openai', failure, T0 + i, policy);
      state = result.state;
    }
    expect(result?.tripped).toMatchObject({ provider: 'openai', kind: 'server' });
    expect(result?.failedOver).toMatchObject({ from: 'openai', to: 'gemini' });
    expect(state.active).toBe('gemini');
    expect(state.audit.map((e) => e.type)).toEqual([
      'acquire',
      'health-check',
      'health-check',
      'health-check',
      'tripped',
      'failover',
    ]);
    expect(state.audit[1]).toMatchObject({
      provider: 'openai',
      kind: 'server',
      reason: 'check failed (server): 500 boom',
    });
    expect(state.providers.openai).toMatchObject({
      healthy: false,
      lastCheck: { ok: false, kind: 'server' },
    });
  });

  it('a success after failures resets the counts and says so in the audit trail', () => {
    const once = healthChecked(held(), 'openai', failure, T0 + 1, policy).state;
    const { state } = healthChecked(once, 'openai', success, T0 + 2, policy);
    expect(state.providers.openai).toMatchObject({ consecutiveFailures: 0, lastCheck: { ok: true } });
    expect(state.audit[state.audit.length - 1]).toMatchObject({
      type: 'health-check',
      provider: 'openai',
      reason: 'check ok in 34 ms; failure counts reset',
    });
  });

  it('an authentication failure trips at once; after the cooldown the provider has recovered', () => {
    const tripped = healthChecked(held(), 'openai', { ...failure, kind: 'auth' }, T0 + 1, policy).state;
    expect(tripped.providers.openai?.healthy).toBe(false);
    const later = healthChecked(tripped, 'gemini', success, T0 + 1 + 300_000, policy).state;
    expect(later.providers.openai).toMatchObject({ healthy: true, consecutiveFailures: 0 });
    // The last check survives the recovery, for the page.
    expect(later.providers.openai?.lastCheck).toMatchObject({ ok: false, kind: 'auth' });
    expect(later.audit.some((e) => e.type === 'recovered' && e.provider === 'openai')).toBe(true);
  });
});
