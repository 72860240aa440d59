import {
  assessRoleFit,
  betaCredibleInterval,
  betaMean,
  CREDIBLE_MASS,
  DEFAULT_ROLE_PRIORS,
  EDUCATION_WEIGHT,
  EXPERIENCE_WEIGHT,
  parseRolePriors,
  profileEvidence,
  ROLE_PRIORS_SETTING,
  RolePriorsError,
  type RoleFitProfile,
} from '../../../shared/domain/analysis/bayesian';
import { bayesianAnalysisSchema } from '../../../shared/domain/analysis/schemas';

/**
 * Independent reference for the Beta CDF with whole-number parameters: the regularized incomplete
 * beta function equals a binomial tail, I_x(a, b) = P(Binomial(a + b − 1, x) ≥ a).
 */
function betaCdfIntegerParams(x: number, a: number, b: number): number {
  const n = a + b - 1;
  let sum = 0;
  for (let j = a; j <= n; j++) sum += binomial(n, j) * x ** j * (1 - x) ** (n - j);
  return sum;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

const noEvidence: RoleFitProfile = {
  skillsMatched: 0,
  skillsRequired: 0,
  experienceYears: 0,
  requiredExperienceYears: 0,
  educationMatch: 'unknown',
};

describe('Beta credible intervals (stdlib quantile) against independent values', () => {
  it('Beta(8, 4): the 95 % equal-tailed interval matches SciPy and the exact binomial-tail CDF', () => {
    const [low, high] = betaCredibleInterval({ alpha: 8, beta: 4 });
    // SciPy 1.17.1: scipy.stats.beta.ppf([0.025, 0.975], 8, 4)
    expect(low).toBeCloseTo(0.39025744, 7);
    expect(high).toBeCloseTo(0.89073656, 7);
    // And inverted through a CDF computed here from first principles.
    expect(betaCdfIntegerParams(low, 8, 4)).toBeCloseTo(0.025, 10);
    expect(betaCdfIntegerParams(high, 8, 4)).toBeCloseTo(0.975, 10);
  });

  it('Beta(2, 2): quantiles invert the closed-form CDF 3x² − 2x³ and are symmetric about 1/2', () => {
    const [low, high] = betaCredibleInterval({ alpha: 2, beta: 2 });
    const cdf = (x: number) => 3 * x ** 2 - 2 * x ** 3;
    expect(cdf(low)).toBeCloseTo(0.025, 12);
    expect(cdf(high)).toBeCloseTo(0.975, 12);
    expect(low + high).toBeCloseTo(1, 12);
    // SciPy 1.17.1: scipy.stats.beta.ppf([0.025, 0.975], 2, 2)
    expect(low).toBeCloseTo(0.09429932, 7);
    expect(high).toBeCloseTo(0.90570068, 7);
  });

  it('Beta(1, 1) (uniform): the interval is exactly [0.025, 0.975]', () => {
    const [low, high] = betaCredibleInterval({ alpha: 1, beta: 1 });
    expect(low).toBeCloseTo(0.025, 12);
    expect(high).toBeCloseTo(0.975, 12);
  });

  it('other masses and invalid parameters', () => {
    const [low, high] = betaCredibleInterval({ alpha: 1, beta: 1 }, 0.5);
    expect([low, high]).toEqual([expect.closeTo(0.25, 12), expect.closeTo(0.75, 12)]);
    expect(() => betaCredibleInterval({ alpha: 0, beta: 1 })).toThrow(RangeError);
    expect(() => betaCredibleInterval({ alpha: 1, beta: 1 }, 1)).toThrow(RangeError);
    expect(betaMean({ alpha: 8, beta: 4 })).toBe(8 / 12);
  });
});

describe('assessRoleFit', () => {
  it('Beta(1, 1) + 7 successes, 3 failures → posterior Beta(8, 4), mean 8/12', () => {
    const result = assessRoleFit({
      role: 'Backend Engineer',
      profile: { ...noEvidence, skillsMatched: 7, skillsRequired: 10 },
    });
    expect(result.prior).toEqual({ alpha: 1, beta: 1 });
    expect(result.posterior).toEqual({ alpha: 8, beta: 4 });
    expect(result.probability).toBeCloseTo(8 / 12, 15);
    expect(result.credibleMass).toBe(CREDIBLE_MASS);
    expect(result.credibleInterval[0]).toBeCloseTo(0.39025744, 7);
    expect(result.credibleInterval[1]).toBeCloseTo(0.89073656, 7);
    expect(result.evidence).toEqual([
      {
        kind: 'skills',
        description: '7 of 10 required skills matched',
        successes: 7,
        failures: 3,
        probabilityBefore: 0.5,
        probabilityAfter: 8 / 12,
        shift: 8 / 12 - 0.5,
      },
    ]);
    expect(result.role).toBe('Backend Engineer');
    expect(result.roleFamily).toBe('default');
    expect(result.priorSource).toBe('default');
    expect(() => bayesianAnalysisSchema.parse(result)).not.toThrow();
  });

  it('no evidence → the prior itself', () => {
    const result = assessRoleFit({ role: 'x', profile: noEvidence });
    expect(result.evidence).toEqual([]);
    expect(result.posterior).toEqual(result.prior);
    expect(result.probability).toBe(0.5);
  });

  it('experience splits EXPERIENCE_WEIGHT pseudo-counts by coverage; surplus years earn no extra credit', () => {
    const partial = profileEvidence({ ...noEvidence, experienceYears: 3, requiredExperienceYears: 4 });
    expect(partial).toEqual([
      expect.objectContaining({
        kind: 'experience',
        successes: EXPERIENCE_WEIGHT * 0.75,
        failures: EXPERIENCE_WEIGHT * 0.25,
      }),
    ]);
    const surplus = profileEvidence({ ...noEvidence, experienceYears: 20, requiredExperienceYears: 4 });
    expect(surplus[0]).toMatchObject({ successes: EXPERIENCE_WEIGHT, failures: 0 });
    expect(profileEvidence({ ...noEvidence, experienceYears: 20, requiredExperienceYears: 0 })).toEqual([]);
  });

  it('education: meets/exceeds = one success, below = one failure, unknown = nothing', () => {
    for (const match of ['meets', 'exceeds'] as const) {
      expect(profileEvidence({ ...noEvidence, educationMatch: match })[0]).toMatchObject({
        kind: 'education',
        successes: EDUCATION_WEIGHT,
        failures: 0,
      });
    }
    expect(profileEvidence({ ...noEvidence, educationMatch: 'below' })[0]).toMatchObject({
      successes: 0,
      failures: EDUCATION_WEIGHT,
      description: 'education is below the requirement',
    });
    expect(profileEvidence({ ...noEvidence, educationMatch: 'unknown' })).toEqual([]);
  });

  it('applies evidence in order; the shifts add up to posterior − prior mean', () => {
    const result = assessRoleFit({
      role: 'Data Scientist',
      profile: {
        skillsMatched: 7,
        skillsRequired: 10,
        experienceYears: 3,
        requiredExperienceYears: 5,
        educationMatch: 'below',
      },
    });
    expect(result.evidence.map((e) => e.kind)).toEqual(['skills', 'experience', 'education']);
    // 1 + 7 + 1.2 + 0 successes; 1 + 3 + 0.8 + 1 failures
    expect(result.posterior.alpha).toBeCloseTo(9.2, 12);
    expect(result.posterior.beta).toBeCloseTo(5.8, 12);
    expect(result.probability).toBeCloseTo(9.2 / 15, 12);
    const total = result.evidence.reduce((s, e) => s + e.shift, 0);
    expect(total).toBeCloseTo(result.probability - 0.5, 12);
    for (let i = 1; i < result.evidence.length; i++) {
      expect(result.evidence[i]?.probabilityBefore).toBe(result.evidence[i - 1]?.probabilityAfter);
    }
    expect(result.evidence[2]?.shift).toBeLessThan(0);
  });

  it('uses the role family prior (trimmed, case-insensitive) and falls back to the default', () => {
    const priors = parseRolePriors('{"engineering": {"alpha": 3, "beta": 2}}');
    const fam = assessRoleFit({ role: 'x', roleFamily: '  Engineering ', profile: noEvidence }, priors);
    expect(fam).toMatchObject({
      roleFamily: 'engineering',
      priorSource: 'family',
      prior: { alpha: 3, beta: 2 },
    });
    expect(fam.probability).toBeCloseTo(0.6, 15);
    const unknown = assessRoleFit({ role: 'x', roleFamily: 'astronaut', profile: noEvidence }, priors);
    expect(unknown).toMatchObject({
      roleFamily: 'default',
      priorSource: 'default',
      prior: { alpha: 1, beta: 1 },
    });
  });

  it('rejects impossible profiles', () => {
    expect(() =>
      assessRoleFit({ role: 'x', profile: { ...noEvidence, skillsMatched: 3, skillsRequired: 2 } }),
    ).toThrow(RangeError);
    expect(() => assessRoleFit({ role: 'x', profile: { ...noEvidence, experienceYears: -1 } })).toThrow(
      RangeError,
    );
    expect(() => assessRoleFit({ role: 'x', profile: { ...noEvidence, skillsRequired: 2.5 } })).toThrow(
      RangeError,
    );
    expect(() => assessRoleFit({ role: 'x', profile: { ...noEvidence, experienceYears: NaN } })).toThrow(
      RangeError,
    );
  });

  it('does not mutate its inputs', () => {
    const priors = Object.freeze({ default: Object.freeze({ alpha: 2, beta: 2 }) });
    const profile = Object.freeze({ ...noEvidence, skillsMatched: 1, skillsRequired: 2 });
    const result = assessRoleFit(Object.freeze({ role: 'x', profile }), priors);
    expect(result.posterior).toEqual({ alpha: 3, beta: 3 });
    expect(priors.default).toEqual({ alpha: 2, beta: 2 });
  });
});

describe('parseRolePriors', () => {
  it('undefined or blank → the documented defaults (uniform Beta(1, 1))', () => {
    expect(parseRolePriors(undefined)).toEqual({ default: { alpha: 1, beta: 1 } });
    expect(parseRolePriors('   ')).toEqual(DEFAULT_ROLE_PRIORS);
  });

  it('merges entries over the defaults, normalising family names; may override the default', () => {
    expect(
      parseRolePriors('{"Engineering": {"alpha": 2, "beta": 5}, "default": {"alpha": 0.5, "beta": 0.5}}'),
    ).toEqual({
      default: { alpha: 0.5, beta: 0.5 },
      engineering: { alpha: 2, beta: 5 },
    });
  });

  const cases: [string, RegExp][] = [
    ['{"eng": {"alpha": 0, "beta": 1}}', /^BRIDGE_BAYES_PRIORS: entry "eng": alpha: .*>0/],
    ['{"eng": {"alpha": 1}}', /entry "eng": beta: /],
    ['{"eng": {"alpha": "1", "beta": 2}}', /entry "eng": alpha: .*expected number/],
    ['{"eng": {"alpha": 1, "beta": 2, "gamma": 3}}', /entry "eng": .*"gamma"/],
    ['{" ": {"alpha": 1, "beta": 1}}', /entry " ": role family name must not be blank/],
    [
      '{"Eng": {"alpha": 1, "beta": 1}, "eng": {"alpha": 2, "beta": 2}}',
      /entry "eng": same family as entry "Eng"/,
    ],
    ['[{"alpha": 1, "beta": 1}]', /expected a JSON object/],
    ['{"eng": ', /not valid JSON/],
  ];
  it.each(cases)('rejects %s naming the bad entry', (raw, message) => {
    let error: unknown;
    try {
      parseRolePriors(raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RolePriorsError);
    expect((error as RolePriorsError).setting).toBe(ROLE_PRIORS_SETTING);
    expect((error as Error).message).toMatch(message);
  });

  it('names every bad entry and the setting it was given', () => {
    try {
      parseRolePriors(
        '{"a": {"alpha": -1, "beta": 1}, "b": {"alpha": 1, "beta": 1}, "c": {"beta": 1}}',
        'MY_SETTING',
      );
      throw new Error('expected a RolePriorsError');
    } catch (e) {
      const err = e as RolePriorsError;
      expect(err.setting).toBe('MY_SETTING');
      expect(err.problems.map((p) => p.entry)).toEqual(['a', 'c']);
      expect(err.message).toMatch(/^MY_SETTING: /);
    }
  });
});
