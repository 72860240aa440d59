import { makeEventHarness, type EventHarness } from '../../helpers/event-services';
import { ManualClock } from '../../helpers/test-services';

import { keyPrincipal } from '../../../shared/services/principal';

const admin = keyPrincipal('bootstrap', 'admin', 'admin');
const portal = keyPrincipal('k1', 'user', 'portal');

describe('async commands', () => {
  let h: EventHarness;
  beforeEach(() => (h = makeEventHarness()));
  afterEach(() => h.cleanup());

  async function processQueued() {
    const statuses: string[] = [];
    for (const m of await h.bus.receive('bridge-commands', { maxMessages: 10 })) {
      statuses.push(await h.services.commands.process(m.message.body, m.message.deliveryCount));
      await h.bus.complete(m.lockToken);
    }
    return statuses;
  }

  it('queues a sync, runs it through the same service, and records the result', async () => {
    const op = await h.services.commands.enqueue(
      { command: 'sync_user_data', userId: 'ann', data: { name: 'Ann', role: 'x' } },
      portal,
    );
    expect(op).toMatchObject({ status: 'queued', command: 'sync_user_data' });
    expect(await processQueued()).toEqual(['succeeded']);
    const done = await h.services.commands.get(op.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      result: { userId: 'ann', applied: ['name'], rejected: [{ field: 'role', reason: 'protected' }] },
    });
    expect((await h.services.sync.get('ann'))?.data).toEqual({ name: 'Ann' });
  });

  it('records a client fault as failed without retrying, and does not run a finished command twice', async () => {
    await h.services.sync.sync('bo', { data: { a: 1 } }, 'admin');
    const op = await h.services.commands.enqueue(
      { command: 'sync_user_data', userId: 'bo', data: { a: 2 }, baseVersion: 99 },
      admin,
    );
    const [message] = await h.bus.receive('bridge-commands', { maxMessages: 1 });
    expect(await h.services.commands.process(message!.message.body, 1)).toBe('failed');
    expect(await h.services.commands.get(op.id)).toMatchObject({
      status: 'failed',
      error: { kind: 'conflict' },
    });
    expect(await h.services.commands.process(message!.message.body, 2)).toBe('failed');
  });

  it('treats a malformed message as poison (it throws every time)', async () => {
    await expect(h.services.commands.process({ operationId: 'nope', command: {} }, 1)).rejects.toThrow(
      /malformed command/,
    );
  });

  it('runs analyses from the queue: a Bayesian inference and a heuristic comprehensive analysis', async () => {
    const bayes = await h.services.commands.enqueue(
      {
        command: 'bayesian_inference',
        role: 'Data Engineer',
        profile: {
          skillsMatched: 7,
          skillsRequired: 10,
          experienceYears: 4,
          requiredExperienceYears: 3,
          educationMatch: 'meets',
        },
      },
      portal,
    );
    const comprehensive = await h.services.commands.enqueue(
      {
        command: 'comprehensive_analysis',
        userId: 'ann',
        skills: ['python', 'sql'],
        experienceYears: 3,
        education: 'BSc',
        targetRole: 'Data Engineer',
      },
      portal,
    );
    expect(await processQueued()).toEqual(['succeeded', 'succeeded']);
    const b = await h.services.commands.get(bayes.id);
    expect(b?.result).toMatchObject({
      result: { probability: expect.any(Number), credibleInterval: [expect.any(Number), expect.any(Number)] },
      metadata: { provider: 'local' },
    });
    const c = await h.services.commands.get(comprehensive.id);
    expect(c?.result).toMatchObject({ metadata: { provider: 'heuristic', degraded: true } });
  });

  it('delete_user needs an admin', async () => {
    await expect(
      h.services.commands.enqueue({ command: 'delete_user', userId: 'ann' }, portal),
    ).rejects.toMatchObject({ kind: 'forbidden' });
  });
});

describe('lockstep monitor', () => {
  let h: EventHarness;
  afterEach(() => h.cleanup());

  it('reports pending events and inconsistency when nothing publishes, and recovers once published', async () => {
    const clock = new ManualClock();
    h = makeEventHarness({ BRIDGE_EVENTS_FAST_PATH: 'false', BRIDGE_SWEEP_GRACE_SECONDS: '1' }, clock);
    await h.services.sync.sync('ann', { data: { a: 1 } }, 'admin');
    const fresh = await h.services.lockstep.status();
    expect(fresh.changeFeed.pendingEvents).toBe(1);
    expect(fresh.consistency).toMatchObject({ checkedUsers: 1, consistent: true });
    clock.advance(1100); // past the 1 s grace
    const stale = await h.services.lockstep.status();
    expect(stale.consistency.inconsistent).toEqual([
      { userId: 'ann', stateVersion: 1, publishedThrough: 'pending' },
    ]);
    expect(stale.health).toBe('CRITICAL');
    const scan = await h.services.events.scanPending(h.services.propagator);
    await h.services.propagator.propagate(scan.pending);
    const healed = await h.services.lockstep.status();
    expect(healed).toMatchObject({
      changeFeed: { pendingEvents: 0, oldestPendingAgeMs: null },
      consistency: { consistent: true },
    });
    // Nothing is pending any more, but that event took over a second to leave: GOOD, not EXCELLENT.
    expect(healed.propagationMs.p95).toBeGreaterThan(1000);
    expect(healed.health).toBe('GOOD');
  });

  it('probe measures sync and propagation latency through the real event path', async () => {
    h = makeEventHarness();
    const probe = await h.services.lockstep.probe();
    expect(probe).toMatchObject({ ok: true, version: 1 });
    expect(probe.syncLatencyMs).toBeGreaterThan(0);
    expect(probe.propagationLatencyMs).toBeGreaterThanOrEqual(0);
    expect((await h.drain('admin-portal')).map((e) => e.subject)).toEqual(['lockstep-probe']);
  });
});
