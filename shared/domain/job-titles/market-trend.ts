/**
 * Market trend maths for get_market_intelligence: trend, volatility and a short forecast from an
 * evenly spaced series of job-posting counts (oldest first). Pure functions; the caller supplies
 * the series (storage lives elsewhere). No randomness, no clock.
 *
 * With y_0 … y_{n−1} at x = 0 … n−1:
 *
 * Trend (ordinary least squares, y = a + b·x):
 *   x̄ = Σx/n, ȳ = Σy/n, Sxx = Σ(x−x̄)², Sxy = Σ(x−x̄)(y−ȳ)
 *   b = Sxy / Sxx,  a = ȳ − b·x̄
 *   SSE = Σ(y − a − b·x)²,  s² = SSE / (n − 2)            (residual variance, n − 2 d.f.)
 *   SE(b) = √(s² / Sxx),  t = b / SE(b)
 *   p = two-sided Student-t p-value with n − 2 d.f. = I_{ν/(ν+t²)}(ν/2, 1/2) (regularised
 *       incomplete beta, ν = n − 2)
 *   R² = 1 − SSE / Σ(y − ȳ)²
 *   The trend is "increasing"/"decreasing" when p < alpha (default 0.05) AND the fitted change over
 *   the window, |b|·(n − 1) / ȳ, is at least minRelativeChange (default 5 %); otherwise "stable".
 *   (A perfect line has SE(b) = 0: its trend is the sign of b, p = 0.)
 *
 * Volatility:
 *   log changes d_t = ln((y_t + 1) / (y_{t−1} + 1)), t = 1 … n−1 (+1 keeps zero counts finite)
 *   volatility = sample standard deviation of d_t (n − 2 denominator); 0 for a constant series.
 *   Also reported: coefficient of variation sd(y)/ȳ and residual CV s/ȳ (noise around the trend).
 *   Band: low < 0.05 ≤ moderate < 0.15 ≤ high.
 *
 * Forecast (same regression), for h = 1 … horizon steps past the last point, x₀ = n − 1 + h:
 *   ŷ = a + b·x₀,  95 % prediction interval ŷ ± t_{1−alpha/2, n−2} · s · √(1 + 1/n + (x₀ − x̄)²/Sxx)
 *   Counts cannot be negative, so ŷ and the bounds are floored at 0 (`clampedAtZero` says so).
 *   horizon is capped at ⌊n/2⌋ (and 12): a straight-line extrapolation further out than half the
 *   history is not a short-term forecast.
 *
 * Confidence (of the forecast): relative half-width w = (upper − lower) / 2 / max(|ŷ|, 1) at the last
 *   forecast step; score = max(0, 1 − w); level high ≥ 0.8 > medium ≥ 0.5 > low.
 *
 * Risk band (for someone relying on demand for this title), a points score:
 *   +2 trend decreasing; +1 volatility moderate, +2 high; +1 forecast confidence low;
 *   +1 if the last forecast's lower bound is below 80 % of the last observed count.
 *   0–1 → low, 2–3 → moderate, ≥ 4 → high. `riskFactors` lists the points that applied.
 *
 * Minimum data: MIN_POINTS = 6. A regression has n − 2 residual degrees of freedom; with fewer than
 * 6 points (≤ 3 d.f.) the 95 % t critical value exceeds 3.18 (12.7 at 1 d.f.), so significance
 * tests and prediction intervals say almost nothing, and the volatility would rest on fewer than
 * 5 changes. Such series get status "insufficient-data" with the reason, never a made-up answer.
 */

export const MIN_POINTS = 6;
export const MAX_POINTS = 10_000;

export const INSUFFICIENT_DATA_REASON = `At least ${MIN_POINTS} evenly spaced points are needed: the least-squares trend leaves n − 2 degrees of freedom, and with fewer than ${MIN_POINTS} points (3 or fewer degrees of freedom) the 95% t critical value exceeds 3.18, so the trend test and the forecast interval are not meaningful; volatility would rest on fewer than 5 changes.`;

export type TrendDirection = 'increasing' | 'decreasing' | 'stable';
export type Band = 'low' | 'moderate' | 'high';
export type ConfidenceLevel = 'low' | 'medium' | 'high';

export interface SeriesPoint {
  /** Label of the period, e.g. "2025-03" (echoed, not parsed). */
  period: string;
  count: number;
}

export interface MarketTrendOptions {
  /** Forecast steps (default 3, capped at ⌊n/2⌋ and 12). */
  horizon?: number;
  /** Significance level of the trend test and 1 − coverage of the interval (default 0.05). */
  alpha?: number;
  /** Smallest fitted change over the window, relative to the mean, that counts as a trend (default 0.05). */
  minRelativeChange?: number;
}

export interface ForecastPoint {
  /** Steps after the last observation (1 = next period). */
  step: number;
  value: number;
  lower: number;
  upper: number;
}

export interface MarketTrendInsufficient {
  status: 'insufficient-data';
  points: number;
  minimumPoints: number;
  reason: string;
}

export interface MarketTrendResult {
  status: 'ok';
  points: number;
  trend: TrendDirection;
  regression: {
    /** Change in count per period. */
    slope: number;
    intercept: number;
    slopeStdError: number;
    /** null when the standard error is 0 (perfect fit). */
    tStatistic: number | null;
    pValue: number;
    degreesOfFreedom: number;
    rSquared: number;
    /** slope / mean: relative change per period. */
    relativeSlope: number;
    /** Fitted change over the window relative to the mean: slope·(n − 1) / mean. */
    relativeChange: number;
    significant: boolean;
  };
  volatility: {
    /** Sample standard deviation of ln((y_t + 1)/(y_{t−1} + 1)). */
    logChangeStdDev: number;
    coefficientOfVariation: number;
    residualCv: number;
    band: Band;
  };
  forecast: ForecastPoint[];
  forecastConfidence: { score: number; level: ConfidenceLevel };
  horizonRequested: number;
  horizonUsed: number;
  clampedAtZero: boolean;
  riskBand: Band;
  riskFactors: string[];
  method: 'ols-linear-regression';
  /** Confidence level of the prediction intervals, e.g. 0.95. */
  intervalLevel: number;
  mean: number;
  last: number;
}

export type MarketTrend = MarketTrendResult | MarketTrendInsufficient;

// ---------------------------------------------------------------------------------------------
// Student t distribution
// ---------------------------------------------------------------------------------------------

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905,
  -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.9999999999998099;
  const t = z + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += (LANCZOS[i] as number) / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-15;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const front = Math.exp(lnFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Two-sided p-value P(|T| ≥ |t|) for Student's t with df degrees of freedom. */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t value whose two-sided p-value is `alpha` (bisection, |error| < 1e-10). */
export function studentTCritical(alpha: number, df: number): number {
  let lo = 0;
  let hi = 1;
  while (studentTTwoSidedP(hi, df) > alpha) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSidedP(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

function round(value: number, digits = 6): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  const r = Math.round(value * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

function counts(series: readonly number[] | readonly SeriesPoint[]): number[] {
  return series.map((p, i) => {
    const v = typeof p === 'number' ? p : p.count;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RangeError(`series[${i}]: count must be a finite number ≥ 0`);
    }
    return v;
  });
}

function sampleStdDev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return Math.sqrt(ss / (values.length - 1));
}

export function volatilityBand(logChangeStdDev: number): Band {
  return logChangeStdDev < 0.05 ? 'low' : logChangeStdDev < 0.15 ? 'moderate' : 'high';
}

/**
 * Analyses a series of posting counts (oldest first, evenly spaced). Throws RangeError for counts
 * that are negative or not finite, or for more than MAX_POINTS points; returns status
 * "insufficient-data" for fewer than MIN_POINTS.
 */
export function analyzeMarketTrend(
  series: readonly number[] | readonly SeriesPoint[],
  options: MarketTrendOptions = {},
): MarketTrend {
  if (series.length > MAX_POINTS) throw new RangeError(`series has more than ${MAX_POINTS} points`);
  const y = counts(series);
  const n = y.length;
  if (n < MIN_POINTS) {
    return {
      status: 'insufficient-data',
      points: n,
      minimumPoints: MIN_POINTS,
      reason: INSUFFICIENT_DATA_REASON,
    };
  }
  const alpha = Math.min(0.5, Math.max(1e-6, options.alpha ?? 0.05));
  const minRelativeChange = Math.max(0, options.minRelativeChange ?? 0.05);
  const horizonRequested = Math.max(1, Math.floor(options.horizon ?? 3));
  const horizonUsed = Math.min(horizonRequested, Math.floor(n / 2), 12);

  // Least squares on x = 0 … n−1.
  const xMean = (n - 1) / 2;
  const yMean = y.reduce((s, v) => s + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = i - xMean;
    const dy = (y[i] as number) - yMean;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  const intercept = yMean - slope * xMean;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += ((y[i] as number) - intercept - slope * i) ** 2;
  // Floating-point noise on an exact line must not look like residual variance.
  if (sse <= 1e-12 * Math.max(1, syy)) sse = 0;
  const df = n - 2;
  const s2 = sse / df;
  const s = Math.sqrt(s2);
  const slopeSe = Math.sqrt(s2 / sxx);
  const tStatistic = slopeSe > 0 ? slope / slopeSe : null;
  const pValue = tStatistic === null ? (slope === 0 ? 1 : 0) : studentTTwoSidedP(tStatistic, df);
  const rSquared = syy === 0 ? (sse === 0 ? 1 : 0) : 1 - sse / syy;
  const relativeSlope = yMean === 0 ? 0 : slope / yMean;
  const relativeChange = yMean === 0 ? 0 : (slope * (n - 1)) / yMean;
  const significant = pValue < alpha;
  const trend: TrendDirection =
    significant && Math.abs(relativeChange) >= minRelativeChange && slope !== 0
      ? slope > 0
        ? 'increasing'
        : 'decreasing'
      : 'stable';

  // Volatility.
  const logChanges: number[] = [];
  for (let i = 1; i < n; i++) logChanges.push(Math.log(((y[i] as number) + 1) / ((y[i - 1] as number) + 1)));
  const logChangeStdDev = sampleStdDev(logChanges);
  const coefficientOfVariation = yMean === 0 ? 0 : sampleStdDev(y) / yMean;
  const residualCv = yMean === 0 ? 0 : s / yMean;
  const vBand = volatilityBand(logChangeStdDev);

  // Forecast with prediction intervals.
  const tCrit = studentTCritical(alpha, df);
  const forecast: ForecastPoint[] = [];
  let clampedAtZero = false;
  for (let h = 1; h <= horizonUsed; h++) {
    const x0 = n - 1 + h;
    const yHat = intercept + slope * x0;
    const half = tCrit * s * Math.sqrt(1 + 1 / n + (x0 - xMean) ** 2 / sxx);
    const lower = yHat - half;
    if (yHat < 0 || lower < 0) clampedAtZero = true;
    forecast.push({
      step: h,
      value: round(Math.max(0, yHat), 3),
      lower: round(Math.max(0, lower), 3),
      upper: round(Math.max(0, yHat + half), 3),
    });
  }
  const lastForecast = forecast[forecast.length - 1] as ForecastPoint;
  const rawLast = intercept + slope * (n - 1 + horizonUsed);
  const halfWidth = (lastForecast.upper - lastForecast.lower) / 2;
  const relativeWidth = halfWidth / Math.max(Math.abs(rawLast), 1);
  const confidenceScore = Math.max(0, 1 - relativeWidth);
  const confidenceLevel: ConfidenceLevel =
    confidenceScore >= 0.8 ? 'high' : confidenceScore >= 0.5 ? 'medium' : 'low';

  // Risk.
  const last = y[n - 1] as number;
  const riskFactors: string[] = [];
  let points = 0;
  if (trend === 'decreasing') {
    points += 2;
    riskFactors.push('postings are decreasing significantly (+2)');
  }
  if (vBand === 'high') {
    points += 2;
    riskFactors.push('high volatility (+2)');
  } else if (vBand === 'moderate') {
    points += 1;
    riskFactors.push('moderate volatility (+1)');
  }
  if (confidenceLevel === 'low') {
    points += 1;
    riskFactors.push('low forecast confidence (+1)');
  }
  if (lastForecast.lower < 0.8 * last) {
    points += 1;
    riskFactors.push('forecast lower bound below 80% of the latest count (+1)');
  }
  const riskBand: Band = points >= 4 ? 'high' : points >= 2 ? 'moderate' : 'low';

  return {
    status: 'ok',
    points: n,
    trend,
    regression: {
      slope: round(slope),
      intercept: round(intercept),
      slopeStdError: round(slopeSe),
      tStatistic: tStatistic === null ? null : round(tStatistic),
      pValue: round(pValue, 8),
      degreesOfFreedom: df,
      rSquared: round(rSquared),
      relativeSlope: round(relativeSlope),
      relativeChange: round(relativeChange),
      significant,
    },
    volatility: {
      logChangeStdDev: round(logChangeStdDev),
      coefficientOfVariation: round(coefficientOfVariation),
      residualCv: round(residualCv),
      band: vBand,
    },
    forecast,
    forecastConfidence: { score: round(confidenceScore, 3), level: confidenceLevel },
    horizonRequested,
    horizonUsed,
    clampedAtZero,
    riskBand,
    riskFactors,
    method: 'ols-linear-regression',
    intervalLevel: round(1 - alpha, 6),
    mean: round(yMean),
    last,
  };
}
