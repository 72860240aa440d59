import { analysisBayesianRun } from '../../../functions/analysis-bayesian-run';
import { analysisComprehensiveRun } from '../../../functions/analysis-comprehensive-run';
import { analysisGeographicRun } from '../../../functions/analysis-geographic-run';
import { providersLockAcquire } from '../../../functions/providers-lock-acquire';
import { providersGet } from '../../../functions/providers-get';
import { providersRelease } from '../../../functions/providers-release';
import { setServices, type Services } from '../../../shared/container';
import { bayesianResultSchema } from '../../../shared/domain/analysis/schemas';
import {
  comprehensiveResponseSchema,
  geographicResponseSchema,
} from '../../../shared/services/analysis-schemas';
import { makeTestServices } from '../../helpers/test-services';
import { call } from './call';

const profile = {
  skills: ['Python', 'SQL', 'Spark'],
  experienceYears: 3,
  education: 'MSc Computer Science',
  targetRole: 'Senior Data Engineer',
};

describe('analysis routes with no AI provider configured', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let userKey: string;

  beforeEach(async () => {
    // No fast-path publish: it would outlive the test's services (events are read back by replay).
    ({ services, cleanup } = makeTestServices({
      BRIDGE_EVENTS_FAST_PATH: 'false',
      BRIDGE_BAYES_PRIORS: '{"data-analytics":{"alpha":3,"beta":2}}',
    }));
    setServices(services);
    userKey = (await services.apiKeys.issue('user', 'user portal')).key;
  });
  afterEach(async () => {
    setServices(undefined);
    await cleanup();
  });

  describe('POST /api/analysis/comprehensive', () => {
    it('answers from the heuristic, degraded, in the one result shape, and emits analysis_complete', async () => {
      const res = await call(analysisComprehensiveRun, { key: userKey, body: { ...profile, userId: 'ann' } });
      expect(res.status).toBe(200);
      expect(comprehensiveResponseSchema.parse(res.json)).toEqual(res.json);
      expect(res.json.metadata).toEqual({
        provider: 'heuristic',
        model: expect.stringMatching(/^heuristic-v1/),
        confidence: expect.any(Number),
        degraded: true,
      });
      expect(res.json.result.matchedSkills).toEqual(['SQL', 'Python', 'Spark']);
      const { events } = await services.events.replay({ types: ['analysis_complete'], limit: 10 });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        id: res.json.event.id,
        type: 'analysis_complete',
        subject: 'ann',
        data: {
          analysis: 'comprehensive',
          userId: 'ann',
          provider: 'heuristic',
          degraded: true,
          score: res.json.result.score,
        },
      });
    });

    it('gives the same result for the same input and a different one when the input changes', async () => {
      const a = await call(analysisComprehensiveRun, { key: userKey, body: profile });
      const b = await call(analysisComprehensiveRun, { key: userKey, body: profile });
      const c = await call(analysisComprehensiveRun, {
        key: userKey,
        body: { ...profile, skills: ['Python'] },
      });
      const d = await call(analysisComprehensiveRun, {
        key: userKey,
        body: { ...profile, experienceYears: 9 },
      });
      expect(b.json.result).toEqual(a.json.result);
      expect(c.json.result).not.toEqual(a.json.result);
      expect(c.json.result.score).toBeLessThan(a.json.result.score);
      expect(d.json.result.score).toBeGreaterThan(a.json.result.score);
    });

    it('refuses bad input with problem details and no key with 401', async () => {
      const bad = await call(analysisComprehensiveRun, {
        body: { ...profile, experienceYears: -1, extra: true },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['', '/experienceYears']);
      expect((await call(analysisComprehensiveRun, { key: '', body: profile })).status).toBe(401);
      const { events } = await services.events.replay({ types: ['analysis_complete'], limit: 10 });
      expect(events).toHaveLength(0);
    });
  });

  describe('POST /api/analysis/geographic', () => {
    it('resolves the place, lists nearby places and reports no market data while there are no profiles', async () => {
      const res = await call(analysisGeographicRun, {
        key: userKey,
        body: { location: 'London, GB', radiusKm: 25, limit: 5 },
      });
      expect(res.status).toBe(200);
      expect(geographicResponseSchema.parse(res.json)).toEqual(res.json);
      expect(res.json.result.location.city).toMatchObject({ name: 'London', country: 'GB' });
      expect(res.json.result.nearby).toHaveLength(5);
      expect(res.json.result.labourMarket.population).toBeGreaterThan(5_000_000);
      expect(res.json.result.marketTrends).toEqual({
        available: false,
        reason: 'No user profiles are stored yet.',
      });
      expect(res.json.metadata).toMatchObject({
        provider: 'local',
        model: 'gazetteer-haversine',
        degraded: false,
      });
      expect(res.json.metadata.confidence).toBeGreaterThan(0.9); // London, GB is all but unambiguous
    });

    it('counts stored profiles whose city names a place within the radius', async () => {
      for (const [user, city] of [
        ['u1', 'London'],
        ['u2', 'croydon'],
        ['u3', 'Paris, France'],
      ]) {
        await services.sync.sync(user!, { data: { city: city! } }, 'admin');
      }
      await services.sync.sync('u4', { data: { location: 'London, UK' } }, 'user');
      await services.sync.sync('u5', { data: { name: 'no place' } }, 'user');
      const res = await call(analysisGeographicRun, {
        key: userKey,
        body: { location: { lat: 51.5072, lon: -0.1276 }, radiusKm: 30 },
      });
      expect(res.status).toBe(200);
      expect(res.json.result.location.matchedBy).toBe('nearest');
      expect(res.json.result.marketTrends).toMatchObject({
        available: true,
        profilesScanned: 5,
        complete: true,
        profilesWithLocation: 4,
        profilesInArea: 3,
        shareOfLocatedProfiles: 0.75,
        newInWindow: 3,
      });
      expect(res.json.result.marketTrends.byPlace.map((p: { name: string }) => p.name)).toEqual([
        'London',
        'Croydon',
      ]);
    });

    it('an unknown place is a 400 naming /location', async () => {
      const res = await call(analysisGeographicRun, {
        key: userKey,
        body: { location: 'Xyzzyville Nowhere', radiusKm: 10 },
      });
      expect(res.status).toBe(400);
      expect(res.json.errors).toEqual([{ path: '/location', message: 'unknown place' }]);
      expect(
        (await call(analysisGeographicRun, { key: userKey, body: { location: 'Oslo', radiusKm: 501 } }))
          .status,
      ).toBe(400);
    });
  });

  describe('POST /api/analysis/bayesian', () => {
    it('matches the known Beta(8, 4) posterior of a uniform prior with 7 of 10 skills', async () => {
      const res = await call(analysisBayesianRun, {
        key: userKey,
        body: {
          role: 'Widget Wrangler',
          profile: { skillsMatched: 7, skillsRequired: 10, experienceYears: 0, requiredExperienceYears: 0 },
        },
      });
      expect(res.status).toBe(200);
      expect(bayesianResultSchema.parse(res.json)).toEqual(res.json);
      const r = res.json.result;
      expect(r).toMatchObject({
        roleFamily: 'default',
        priorSource: 'default',
        posterior: { alpha: 8, beta: 4 },
      });
      expect(r.probability).toBeCloseTo(8 / 12, 12);
      expect(r.credibleInterval[0]).toBeCloseTo(0.39025744, 7);
      expect(r.credibleInterval[1]).toBeCloseTo(0.89073656, 7);
      expect(res.json.metadata).toEqual({
        provider: 'local',
        model: 'beta-binomial',
        confidence: Number((1 - (r.credibleInterval[1] - r.credibleInterval[0])).toFixed(3)),
        degraded: false,
      });
    });

    it("uses the configured prior of the role's taxonomy family when no family is given", async () => {
      const res = await call(analysisBayesianRun, {
        key: userKey,
        body: {
          role: 'Data Engineer',
          profile: { skillsMatched: 0, skillsRequired: 0, experienceYears: 0, requiredExperienceYears: 0 },
        },
      });
      expect(res.json.result).toMatchObject({
        roleFamily: 'data-analytics',
        priorSource: 'family',
        prior: { alpha: 3, beta: 2 },
      });
      expect(res.json.result.probability).toBeCloseTo(0.6, 12);
    });

    it('refuses an inconsistent profile', async () => {
      const res = await call(analysisBayesianRun, {
        key: userKey,
        body: {
          role: 'x',
          profile: { skillsMatched: 3, skillsRequired: 2, experienceYears: 0, requiredExperienceYears: 0 },
        },
      });
      expect(res.status).toBe(400);
      expect(res.json.errors).toEqual([
        { path: '/profile/skillsMatched', message: 'skillsMatched must not exceed skillsRequired' },
      ]);
    });
  });

  describe('provider routes', () => {
    it('GET /api/providers shows the heuristic holding the lock when nothing is configured', async () => {
      await call(analysisComprehensiveRun, { key: userKey, body: profile });
      const res = await call(providersGet, { method: 'GET', key: userKey });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        active: 'heuristic',
        next: 'heuristic',
        rules: { failureThreshold: 3, rateLimitThreshold: 3, cooldownSeconds: 300 },
      });
      expect(
        res.json.providers.map((p: { name: string; configured: boolean }) => [p.name, p.configured]),
      ).toEqual([
        ['openai', false],
        ['gemini', false],
        ['groq', false],
        ['cloudflare', false],
        ['huggingface', false],
        ['heuristic', true],
      ]);
      expect(res.json.audit[0]).toMatchObject({ type: 'acquire', provider: 'heuristic' });
      expect((await call(providersGet, { method: 'GET', query: { audit: '5000' } })).status).toBe(400);
    });

    it('lock and release are for admins; an unconfigured provider cannot be locked', async () => {
      expect(
        (await call(providersLockAcquire, { key: userKey, body: { provider: 'heuristic', reason: 'x' } }))
          .status,
      ).toBe(403);
      expect((await call(providersRelease, { key: userKey, body: { reason: 'x' } })).status).toBe(403);
      const notConfigured = await call(providersLockAcquire, { body: { provider: 'openai', reason: 'try' } });
      expect(notConfigured.status).toBe(409);
      expect(notConfigured.json.detail).toMatch(/not configured/);
      expect(
        (await call(providersLockAcquire, { body: { provider: 'mistral', reason: 'try' } })).status,
      ).toBe(400);
      expect((await call(providersLockAcquire, { body: { provider: 'openai' } })).status).toBe(400); // reason required
      const locked = await call(providersLockAcquire, {
        body: { provider: 'Heuristic', reason: 'keys are being rotated' },
      });
      expect(locked.status).toBe(200);
      expect(locked.json).toMatchObject({
        active: 'heuristic',
        reason: 'keys are being rotated',
        manual: true,
      });
      const released = await call(providersRelease, { body: { reason: 'rotation done' } });
      expect(released.json).toMatchObject({ active: null, reason: 'rotation done', manual: false });
    });
  });
});
