/**
 * The providers-check timer against an OpenAI-compatible fake (two providers on one server) and a
 * manual clock: checks go through the ChatModel port, failures trip and fail the lock over under
 * the lock rules, the cooldown is respected, recovery gives the lock back, and the audit trail
 * says what the monitor did.
 */
import { InvocationContext, type Timer } from '@azure/functions';
import { providersCheck } from '../../../functions/providers-check';
import { setServices, type Services } from '../../../shared/container';
import { FakeOpenAIServer } from '../../helpers/fake-openai-server';
import { ManualClock, makeTestServices } from '../../helpers/test-services';

const timer = { isPastDue: false, schedule: { adjustForDST: false } } as Timer;

let fake: FakeOpenAIServer;
let clock: ManualClock;
let services: Services;
let cleanup: () => Promise<void>;

const run = () =>
  providersCheck(
    timer,
    new InvocationContext({ functionName: 'providers-check', logHandler: () => undefined }),
  );
const view = () => services.analysis.providers(100);
const provider = async (name: string) => (await view()).providers.find((p) => p.name === name);

beforeAll(async () => {
  fake = await FakeOpenAIServer.start();
});
afterAll(async () => {
  await fake.close();
});

function start(env: Record<string, string> = {}) {
  clock = new ManualClock();
  const made = makeTestServices(
    {
      AI_PROVIDER_ORDER: 'openai,gemini',
      AI_OPENAI_API_KEY: 'sk-openai',
      AI_OPENAI_MODEL: 'gpt-test',
      AI_OPENAI_BASE_URL: fake.baseUrl('openai'),
      AI_GEMINI_API_KEY: 'sk-gemini',
      AI_GEMINI_MODEL: 'gemini-test',
      AI_GEMINI_BASE_URL: fake.baseUrl('gemini'),
      AI_TIMEOUT_MS: '2000',
      ...env,
    },
    clock,
  );
  services = made.services;
  cleanup = made.cleanup;
  setServices(services);
}

beforeEach(() => {
  fake.reset();
  fake.responder = () => ({ ok: true });
});
afterEach(async () => {
  setServices(undefined);
  await cleanup();
});

describe('providers-check timer', () => {
  it('makes one cheap JSON call per configured provider and records each check', async () => {
    start();
    await run();
    for (const name of ['openai', 'gemini']) {
      const calls = fake.requestsTo(name);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.body).toMatchObject({
        max_tokens: 20,
        response_format: { json_schema: { name: 'health_check' } },
      });
      expect(await provider(name)).toMatchObject({
        healthy: true,
        lastCheck: { ok: true, at: new Date(clock.now()).toISOString() },
      });
    }
    // Nothing changed, so nothing crowds the audit trail; the lock is not taken by the monitor.
    expect((await view()).audit).toEqual([]);
    expect((await view()).active).toBeNull();
  });

  it('failing checks trip the active provider and fail over; cooling down it is not called; after the cooldown it recovers and takes the lock back', async () => {
    start();
    await services.providerLock.active(); // openai holds the lock, as after the first analysis
    fake.setMode('openai', 'server');
    await run();
    await run();
    expect((await view()).active).toBe('openai');
    await run();
    let v = await view();
    expect(v.active).toBe('gemini');
    expect(v.reason).toMatch(/^failover from openai: 3 consecutive failures \(last: server\)/);
    expect(v.audit.map((e) => e.type).reverse()).toEqual([
      'acquire',
      'health-check',
      'health-check',
      'health-check',
      'tripped',
      'failover',
    ]);
    expect(await provider('openai')).toMatchObject({
      coolingDown: true,
      lastCheck: { ok: false, kind: 'server' },
    });

    // Gemini's key is refused: it trips at once and the heuristic holds the lock.
    fake.setMode('gemini', 'auth');
    clock.advance(60_000);
    const openaiCalls = fake.requestsTo('openai').length;
    await run();
    expect(fake.requestsTo('openai')).toHaveLength(openaiCalls); // cooling down: skipped
    v = await view();
    expect(v.active).toBe('heuristic');
    expect(v.audit[0]).toMatchObject({ type: 'failover', from: 'gemini', to: 'heuristic' });

    // Both back, and the cooldown over: the check finds openai healthy and gives it the lock back.
    fake.setMode('openai', 'ok');
    fake.setMode('gemini', 'ok');
    clock.advance(300_000);
    await run();
    v = await view();
    expect(v.active).toBe('openai');
    expect(v.reason).toMatch(/health recovery, found by the health check/);
    const recent = v.audit.slice(0, 4).map((e) => `${e.type}:${e.provider ?? e.to ?? ''}`);
    expect(recent).toEqual(
      expect.arrayContaining(['recovered:openai', 'recovered:gemini', 'acquire:openai']),
    );
    expect(await provider('openai')).toMatchObject({
      healthy: true,
      coolingDown: false,
      lastCheck: { ok: true },
    });
  });

  it('an answer that is not {"ok": true} counts as invalid output', async () => {
    start({ AI_PROVIDER_ORDER: 'openai' });
    fake.responder = () => ({ fine: 'thanks' });
    await run();
    expect(await provider('openai')).toMatchObject({
      consecutiveFailures: 1,
      lastCheck: { ok: false, kind: 'invalid-output' },
    });
  });

  it('a provider that does not answer in AI_TIMEOUT_MS is a timeout failure', async () => {
    start({ AI_PROVIDER_ORDER: 'openai', AI_TIMEOUT_MS: '200' });
    fake.setMode('openai', 'timeout');
    await run();
    expect(await provider('openai')).toMatchObject({ lastCheck: { ok: false, kind: 'timeout' } });
  });

  it('BRIDGE_PROVIDER_CHECK_ENABLED=false: the timer does nothing', async () => {
    start({ BRIDGE_PROVIDER_CHECK_ENABLED: 'false' });
    await run();
    expect(fake.requests).toHaveLength(0);
    expect(await provider('openai')).toMatchObject({ lastCheck: null });
  });
});
