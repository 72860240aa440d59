/** The lockstep-monitor timer: runs the probe, records the result where lockstep status shows it. */
import { InvocationContext, type Timer } from '@azure/functions';
import { lockstepMonitor } from '../../../functions/lockstep-monitor';
import { lockstepStatusGet } from '../../../functions/lockstep-status-get';
import { setServices } from '../../../shared/container';
import { MONITOR_HISTORY } from '../../../shared/services/lockstep-service';
import { invokeHandler } from '../../helpers/invoke-handler';
import { makeEventHarness, type EventHarness } from '../../helpers/event-services';
import { ManualClock, TEST_ADMIN_KEY } from '../../helpers/test-services';

const timer = { isPastDue: false, schedule: { adjustForDST: false } } as Timer;
const run = () =>
  lockstepMonitor(
    timer,
    new InvocationContext({ functionName: 'lockstep-monitor', logHandler: () => undefined }),
  );

let h: EventHarness;
let clock: ManualClock;
afterEach(async () => {
  setServices(undefined);
  await h.cleanup();
});

function start(env: Record<string, string> = {}) {
  clock = new ManualClock(Date.now());
  h = makeEventHarness(env, clock);
  setServices(h.services);
}

async function status() {
  const res = await invokeHandler(lockstepStatusGet, { method: 'GET', key: TEST_ADMIN_KEY });
  expect(res.status).toBe(200);
  return JSON.parse(res.raw);
}

describe('lockstep-monitor timer', () => {
  it('runs the probe and records each run; lockstep status shows the newest first', async () => {
    start();
    expect((await status()).monitor).toMatchObject({
      enabled: true,
      schedule: '0 * * * * *',
      intervalSeconds: 60,
      last: null,
      recent: [],
    });
    await run();
    clock.advance(60_000);
    await run();
    clock.advance(5_000);
    const monitor = (await status()).monitor;
    expect(monitor.recent).toHaveLength(2);
    expect(monitor.last).toMatchObject({
      ok: true,
      health: expect.stringMatching(/^(EXCELLENT|GOOD|WARNING|CRITICAL)$/),
      instanceId: h.services.instanceId,
      at: new Date(clock.now() - 5_000).toISOString(),
    });
    expect(monitor.last.syncLatencyMs).toBeGreaterThan(0);
    expect(monitor.last.propagationLatencyMs).toBeGreaterThanOrEqual(0);
    expect(monitor.recent[0]).toEqual(monitor.last);
    expect(monitor.lastRunAgeSeconds).toBe(5);
    // The probe is a real sync of the probe user: its events reach the portals.
    expect((await h.services.sync.get('lockstep-probe'))?.version).toBe(2);
  });

  it(`keeps the newest ${MONITOR_HISTORY} runs`, async () => {
    start({ BRIDGE_LOCKSTEP_MONITOR_SCHEDULE: '*/10 * * * * *' });
    for (let i = 0; i < MONITOR_HISTORY + 2; i++) {
      await run();
      clock.advance(10_000);
    }
    const stored = await h.services.lockstep.monitorRuns();
    expect(stored.intervalSeconds).toBe(10);
    expect(stored.recent).toHaveLength(10);
    const doc = await h.services.store.read<{ runs: unknown[] }>('state', 'lockstep:monitor', 'runs');
    expect(doc?.body.runs).toHaveLength(MONITOR_HISTORY);
  });

  it('BRIDGE_LOCKSTEP_MONITOR_ENABLED=false: the timer does nothing and status says it is off', async () => {
    start({ BRIDGE_LOCKSTEP_MONITOR_ENABLED: 'false' });
    await run();
    const monitor = (await status()).monitor;
    expect(monitor).toMatchObject({ enabled: false, last: null, recent: [], intervalSeconds: null });
    expect(await h.services.sync.get('lockstep-probe')).toBeUndefined();
  });
});
