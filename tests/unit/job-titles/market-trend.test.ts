import fc from 'fast-check';
import {
  analyzeMarketTrend,
  incompleteBeta,
  logGamma,
  MIN_POINTS,
  studentTCritical,
  studentTTwoSidedP,
  type MarketTrendResult,
  type SeriesPoint,
} from '../../../shared/domain/job-titles/market-trend';
import { getMarketIntelligence } from '../../../shared/domain/job-titles/market-intelligence';
import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';

function ok(series: readonly number[] | readonly SeriesPoint[], options = {}): MarketTrendResult {
  const r = analyzeMarketTrend(series, options);
  if (r.status !== 'ok') throw new Error(`expected ok, got ${r.status}`);
  return r;
}

describe('Student t helpers', () => {
  it('match published critical values', () => {
    // Two-sided 5% critical values of Student's t (standard table values).
    expect(studentTCritical(0.05, 1)).toBeCloseTo(12.706, 3);
    expect(studentTCritical(0.05, 4)).toBeCloseTo(2.776, 3);
    expect(studentTCritical(0.05, 10)).toBeCloseTo(2.228, 3);
    expect(studentTCritical(0.05, 1000)).toBeCloseTo(1.962, 3);
    expect(studentTCritical(0.01, 5)).toBeCloseTo(4.032, 3);
    expect(studentTTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 4);
    expect(studentTTwoSidedP(0, 7)).toBeCloseTo(1, 10);
    expect(studentTTwoSidedP(Infinity, 7)).toBe(0);
  });

  it('has a correct log-gamma and incomplete beta', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12); // uniform CDF
    expect(incompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 12); // symmetric
    expect(incompleteBeta(0.25, 2, 3)).toBeCloseTo(0.26171875, 10); // 1 - (0.75^4 + 4·0.25·0.75^3)
  });
});

describe('analyzeMarketTrend', () => {
  it('gives a straight line its exact slope, an "increasing" trend and an exact forecast', () => {
    const r = ok([10, 12, 14, 16, 18, 20, 22, 24]);
    expect(r.trend).toBe('increasing');
    expect(r.regression).toMatchObject({
      slope: 2,
      intercept: 10,
      slopeStdError: 0,
      rSquared: 1,
      pValue: 0,
      tStatistic: null,
    });
    expect(r.forecast).toEqual([
      { step: 1, value: 26, lower: 26, upper: 26 },
      { step: 2, value: 28, lower: 28, upper: 28 },
      { step: 3, value: 30, lower: 30, upper: 30 },
    ]);
    expect(r.forecastConfidence).toEqual({ score: 1, level: 'high' });
    expect(r.riskBand).toBe('low');
  });

  it('calls a constant series stable with zero volatility', () => {
    const r = ok([100, 100, 100, 100, 100, 100]);
    expect(r.trend).toBe('stable');
    expect(r.regression.slope).toBe(0);
    expect(r.volatility).toEqual({
      logChangeStdDev: 0,
      coefficientOfVariation: 0,
      residualCv: 0,
      band: 'low',
    });
    expect(r.riskBand).toBe('low');
  });

  it('calls a noisy flat series stable (slope not significant)', () => {
    const r = ok([100, 104, 97, 102, 99, 101, 98, 103, 100, 96, 104, 99]);
    expect(r.trend).toBe('stable');
    expect(r.regression.significant).toBe(false);
    expect(r.regression.pValue).toBeGreaterThan(0.5);
    expect(r.volatility.band).toBe('low');
    expect(r.forecast[0]?.lower).toBeLessThan(r.forecast[0]?.value as number);
  });

  it('detects a noisy decline and rates its risk high', () => {
    const r = ok([200, 180, 170, 150, 120, 110, 90, 70, 65, 40]);
    expect(r.trend).toBe('decreasing');
    expect(r.regression.significant).toBe(true);
    expect(r.riskBand).toBe('high');
    expect(r.riskFactors[0]).toMatch(/decreasing/);
    expect(r.clampedAtZero).toBe(true);
    for (const f of r.forecast) expect(f.lower).toBeGreaterThanOrEqual(0);
  });

  it('ignores a statistically significant but immaterial drift', () => {
    // +0.1 per period on ~1000: significant (tiny noise) but a 0.1% change over the window.
    const r = ok([1000, 1000.1, 1000.2, 1000.3, 1000.4, 1000.5, 1000.6]);
    expect(r.regression.significant).toBe(true);
    expect(r.trend).toBe('stable');
  });

  it('matches a hand-computed regression and prediction interval', () => {
    // y = 1,3,2,5,4,6 at x = 0..5: Sxx = 17.5, Sxy = 15.5, slope = 31/35, intercept = 14/15 … (checked by hand)
    const r = ok([1, 3, 2, 5, 4, 6], { horizon: 1 });
    const slope = 15.5 / 17.5;
    const intercept = 3.5 - slope * 2.5;
    const fitted = [1, 3, 2, 5, 4, 6].map((y, x) => y - intercept - slope * x);
    const sse = fitted.reduce((s, e) => s + e * e, 0);
    const s = Math.sqrt(sse / 4);
    expect(r.regression.slope).toBeCloseTo(slope, 6);
    expect(r.regression.slopeStdError).toBeCloseTo(Math.sqrt(sse / 4 / 17.5), 6);
    const yHat = intercept + slope * 6;
    const half = 2.7764451 * s * Math.sqrt(1 + 1 / 6 + (6 - 2.5) ** 2 / 17.5);
    expect(r.forecast[0]?.value).toBeCloseTo(yHat, 3);
    expect(r.forecast[0]?.upper).toBeCloseTo(yHat + half, 3);
    expect(r.forecast[0]?.lower).toBeCloseTo(yHat - half, 3);
  });

  it('refuses to guess with too few points and says why', () => {
    const r = analyzeMarketTrend([5, 7, 9, 11, 13]);
    expect(r).toMatchObject({ status: 'insufficient-data', points: 5, minimumPoints: MIN_POINTS });
    expect(r.status === 'insufficient-data' && r.reason).toMatch(/degrees of freedom/);
    expect(analyzeMarketTrend([]).status).toBe('insufficient-data');
    expect(analyzeMarketTrend([5, 7, 9, 11, 13, 15]).status).toBe('ok');
  });

  it('accepts labelled points, caps the horizon at half the history, and rejects bad counts', () => {
    const r = ok(
      [10, 11, 12, 13, 14, 15].map((count, i) => ({ period: `2025-0${i + 1}`, count })),
      { horizon: 10 },
    );
    expect([r.horizonRequested, r.horizonUsed, r.forecast.length]).toEqual([10, 3, 3]);
    expect(() => analyzeMarketTrend([1, 2, -3, 4, 5, 6])).toThrow(RangeError);
    expect(() => analyzeMarketTrend([1, 2, Number.NaN, 4, 5, 6])).toThrow(RangeError);
  });

  it('handles all-zero series', () => {
    const r = ok([0, 0, 0, 0, 0, 0]);
    expect(r).toMatchObject({ trend: 'stable', mean: 0 });
    expect(r.volatility.logChangeStdDev).toBe(0);
  });

  it('properties: scale invariance of the trend test, reversal flips the trend, determinism', () => {
    const series = fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: MIN_POINTS, maxLength: 40 });
    fc.assert(
      fc.property(series, fc.integer({ min: 2, max: 50 }), (ys, k) => {
        const a = ok(ys);
        const b = ok(ys.map((y) => y * k));
        expect(b.trend).toBe(a.trend);
        expect(b.regression.pValue).toBeCloseTo(a.regression.pValue, 5);
        const reversed = ok([...ys].reverse());
        const flip = { increasing: 'decreasing', decreasing: 'increasing', stable: 'stable' } as const;
        expect(reversed.trend).toBe(flip[a.trend]);
        expect(ok(ys)).toEqual(a);
        expect(a.forecastConfidence.score).toBeGreaterThanOrEqual(0);
        expect(a.forecastConfidence.score).toBeLessThanOrEqual(1);
      }),
      { numRuns: 150 },
    );
  });
});

describe('getMarketIntelligence', () => {
  it('normalises the title and analyses the series', () => {
    const r = getMarketIntelligence(fileBuiltInTaxonomy(), 'Sr. Data Engineer', [40, 44, 47, 52, 55, 61, 63]);
    expect(r).toMatchObject({ known: true, titleId: 'senior-data-engineer', family: 'data-analytics' });
    expect(r.market.status === 'ok' && r.market.trend).toBe('increasing');
  });
});
