/**
 * Rate limits per principal and class: the seeds' 100 AI calls per hour, 429 with Retry-After and
 * RateLimit-* headers over it, other principals unaffected; the shared (store) counter holds under
 * concurrency and falls back to memory when the store fails.
 */
import type { HttpHandler } from '@azure/functions';
import { analysisBayesianRun } from '../../../functions/analysis-bayesian-run';
import { analysisComprehensiveRun } from '../../../functions/analysis-comprehensive-run';
import { operationsCreate } from '../../../functions/operations-create';
import { usersGet } from '../../../functions/users-get';
import { usersSync } from '../../../functions/users-sync';
import { loadConfig } from '../../../shared/config';
import { setServices, type Services } from '../../../shared/container';
import { parseRateRules, RateRulesError } from '../../../shared/domain/rate-limit-rules';
import { StoreError, type DocumentCollection } from '../../../shared/ports/document-store';
import { DocumentRateLimiter } from '../../../shared/services/document-rate-limiter';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { invokeHandler, type HandlerRequest } from '../../helpers/invoke-handler';
import { issuerSettings, startOidcIssuer, type OidcIssuer } from '../../helpers/oidc-issuer';
import { makeTestServices, TEST_ADMIN_KEY } from '../../helpers/test-services';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

/** The AI analysis (answered by the heuristic provider here: no AI provider is configured). */
const ANALYSIS = { targetRole: 'Data Engineer', skills: ['SQL'], experienceYears: 2, education: 'BSc' };

async function call(handler: HttpHandler, request: HandlerRequest) {
  const res = await invokeHandler(handler, request);
  return {
    status: res.status,
    headers: res.headers,
    json: (res.raw ? JSON.parse(res.raw) : undefined) as AnyJson,
  };
}

describe('rate limits', () => {
  let issuer: OidcIssuer;
  let services: Services;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    ({ services, cleanup } = makeTestServices(
      issuerSettings(issuer, { BRIDGE_RATE_LIMITS_END_USER: 'ai=100/h,write=3/m' }),
    ));
    setServices(services);
  });
  afterAll(async () => {
    setServices(undefined);
    await cleanup();
    await issuer.close();
  });

  it('the 101st AI call in an hour is a 429 with Retry-After and RateLimit-*; other principals are unaffected', async () => {
    const portal = (await services.apiKeys.issue('user', 'portal')).key;
    const other = (await services.apiKeys.issue('user', 'other portal')).key;
    const remaining: number[] = [];
    for (let i = 1; i <= 100; i++) {
      const res = await call(analysisComprehensiveRun, { method: 'POST', key: portal, body: ANALYSIS });
      expect([i, res.status]).toEqual([i, 200]);
      expect(res.headers.get('ratelimit-limit')).toBe('100');
      expect(res.headers.get('ratelimit-policy')).toBe('100;w=3600');
      remaining.push(Number(res.headers.get('ratelimit-remaining')));
    }
    expect(remaining[0]).toBe(99);
    expect(remaining[99]).toBe(0);
    expect(remaining.every((n, i) => i === 0 || n === (remaining[i - 1] as number) - 1)).toBe(true);

    const over = await call(analysisComprehensiveRun, { method: 'POST', key: portal, body: ANALYSIS });
    expect(over.status).toBe(429);
    expect(over.json).toMatchObject({
      type: 'urn:portal-bridge:problem:rate-limited',
      rateClass: 'ai',
      limit: 100,
      windowSeconds: 3600,
    });
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3000);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(over.headers.get('ratelimit-limit')).toBe('100');
    expect(over.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(over.headers.get('ratelimit-reset'))).toBe(retryAfter);

    // The local analyses are not AI calls: not in this class (writes, unlimited for keys by default).
    const local = await call(analysisBayesianRun, {
      method: 'POST',
      key: portal,
      body: {
        role: 'Data Engineer',
        profile: { skillsMatched: 3, skillsRequired: 5, experienceYears: 2, requiredExperienceYears: 3 },
      },
    });
    expect([local.status, local.headers.get('ratelimit-limit')]).toEqual([200, null]);

    // Another key, an end user, and another class of the same key are unaffected.
    const fresh = await call(analysisComprehensiveRun, { method: 'POST', key: other, body: ANALYSIS });
    expect([fresh.status, fresh.headers.get('ratelimit-remaining')]).toEqual([200, '99']);
    const person = { authorization: `Bearer ${await issuer.sign({ sub: 'carol' })}` };
    const theirs = await call(analysisComprehensiveRun, { method: 'POST', headers: person, body: ANALYSIS });
    expect([theirs.status, theirs.headers.get('ratelimit-remaining')]).toEqual([200, '99']);
    await services.sync.sync('ann', { data: { a: 1 } }, 'admin');
    const read = await call(usersGet, { method: 'GET', key: portal, params: { userId: 'ann' } });
    expect(read.status).toBe(200);
    // Reads of keys are not limited by default: no RateLimit headers at all.
    expect(read.headers.get('ratelimit-limit')).toBeNull();

    // The async form of an analysis counts against the same limit.
    const queued = await call(operationsCreate, {
      method: 'POST',
      key: portal,
      body: { command: 'comprehensive_analysis', ...ANALYSIS },
    });
    expect(queued.status).toBe(429);
    const sync = await call(operationsCreate, {
      method: 'POST',
      key: portal,
      body: { command: 'sync_user_data', userId: 'ann', data: { b: 2 } },
    });
    expect(sync.status).toBe(202);
  });

  it('end users have their own rules per class: the 4th write in a minute is a 429, reads go on', async () => {
    const dave = { authorization: `Bearer ${await issuer.sign({ sub: 'dave' })}` };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call(usersSync, {
        method: 'POST',
        headers: dave,
        params: { userId: 'dave' },
        body: { data: { n: i } },
      });
      statuses.push(res.status);
      if (i < 3) expect(res.headers.get('ratelimit-remaining')).toBe(String(2 - i));
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await call(usersGet, { method: 'GET', headers: dave, params: { userId: 'dave' } })).status).toBe(
      200,
    );
    // A write refused for its owner check counts too: it is still a request.
    const eve = { authorization: `Bearer ${await issuer.sign({ sub: 'eve' })}` };
    const foreign = await call(usersSync, {
      method: 'POST',
      headers: eve,
      params: { userId: 'dave' },
      body: { data: { n: 1 } },
    });
    expect([foreign.status, foreign.headers.get('ratelimit-remaining')]).toEqual([403, '2']);
  });

  it('a request refused for its input is not counted (and writes nothing); one that reaches the handler is', async () => {
    const issued = await services.apiKeys.issue('user', 'careless portal');
    const key = issued.key;
    const counters = async () =>
      (await services.store.collection('state').query({ type: 'ratelimit' })).items.filter((d) =>
        d.pk.endsWith(`key:${issued.id}`),
      );
    const bad = await call(analysisComprehensiveRun, { method: 'POST', key, body: { targetRole: 'x' } });
    expect([bad.status, bad.headers.get('ratelimit-limit')]).toEqual([400, null]);
    expect(await counters()).toEqual([]);
    const good = await call(analysisComprehensiveRun, { method: 'POST', key, body: ANALYSIS });
    expect([good.status, good.headers.get('ratelimit-remaining')]).toEqual([200, '99']);
    expect((await counters()).map((d) => (d.body as { points: number }).points)).toEqual([1]);
  });

  it('the bootstrap admin key is limited like any key (AI only, by default)', async () => {
    const res = await call(analysisComprehensiveRun, { method: 'POST', key: TEST_ADMIN_KEY, body: ANALYSIS });
    expect(res.headers.get('ratelimit-limit')).toBe('100');
  });
});

describe('the shared counter (document store)', () => {
  const makeLimiter = (store: DocumentCollection, points: number) =>
    new DocumentRateLimiter({
      store,
      clock: { now: () => Date.now() },
      points,
      durationSeconds: 3600,
      keyPrefix: 'test',
      insuranceLimiter: new RateLimiterMemory({ points, duration: 3600 }),
    });

  it('never lets more than the limit through, even with concurrent requests', async () => {
    const { services, cleanup } = makeTestServices();
    try {
      const store = services.store.collection('state');
      // Two limiters = two instances sharing the store.
      const [a, b] = [makeLimiter(store, 10), makeLimiter(store, 10)];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).consume('key:k1')),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(10);
      const counter = await store.read<{ points: number }>('ratelimit:test:key:k1', 'counter');
      expect(counter?.body.points).toBeGreaterThanOrEqual(10);
    } finally {
      await cleanup();
    }
  });

  it('when the store fails, this instance counts in memory instead (the limit still applies)', async () => {
    const failing = new Proxy({} as DocumentCollection, {
      get: () => () => Promise.reject(new StoreError('unavailable', 'store down')),
    });
    const limiter = makeLimiter(failing, 2);
    await expect(limiter.consume('key:k2')).resolves.toMatchObject({ remainingPoints: 1 });
    await expect(limiter.consume('key:k2')).resolves.toMatchObject({ remainingPoints: 0 });
    await expect(limiter.consume('key:k2')).rejects.toMatchObject({ remainingPoints: 0 });
  });
});

describe('rate-limit settings', () => {
  it('parse class=count/window pairs, none, and refuse anything else naming the setting', () => {
    expect(parseRateRules('ai=100/h,write=500/10m,read=5/s')).toEqual({
      ai: { points: 100, durationSeconds: 3600 },
      write: { points: 500, durationSeconds: 600 },
      read: { points: 5, durationSeconds: 1 },
    });
    expect(parseRateRules('none')).toEqual({});
    for (const bad of ['ai=100', 'ai=0/h', 'ai=1/8d', 'chat=1/h', 'ai=1/h,ai=2/h', 'ai=1/h;read=2/m', '']) {
      expect(() => parseRateRules(bad)).toThrow(RateRulesError);
    }
    const env = { BRIDGE_ADMIN_KEY: 'x'.repeat(32) };
    expect(() => loadConfig({ ...env, BRIDGE_RATE_LIMITS_END_USER: 'ai=lots' })).toThrow(
      /BRIDGE_RATE_LIMITS_END_USER/,
    );
    expect(loadConfig(env).rateLimits).toEqual({
      endUser: {
        ai: { points: 100, durationSeconds: 3600 },
        write: { points: 120, durationSeconds: 60 },
        read: { points: 600, durationSeconds: 60 },
      },
      key: { ai: { points: 100, durationSeconds: 3600 } },
    });
  });
});
