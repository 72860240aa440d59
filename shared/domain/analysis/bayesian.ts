/**
 * Role fit as a Beta-Binomial model (pure; no I/O, no randomness).
 *
 * The quantity estimated is θ, "the probability that this candidate fits this role". Its prior is a
 * Beta(α, β) chosen per role family; every piece of evidence in the candidate's profile is turned into
 * a number of pseudo-successes s and pseudo-failures f, and because the Beta prior is conjugate to the
 * Binomial likelihood the posterior is simply Beta(α + Σs, β + Σf).
 *
 * Evidence model (the weights are modelling choices made here, stated openly — they are not fitted to
 * data; change them here and the tests that pin them):
 *
 * | evidence    | pseudo-successes                      | pseudo-failures                            |
 * |-------------|---------------------------------------|--------------------------------------------|
 * | skills      | SKILL_WEIGHT × matched                | SKILL_WEIGHT × (required − matched)        |
 * | experience  | EXPERIENCE_WEIGHT × min(1, yrs / req) | EXPERIENCE_WEIGHT × (1 − min(1, yrs / req)) |
 * | education   | EDUCATION_WEIGHT if meets/exceeds     | EDUCATION_WEIGHT if below                  |
 *
 * - Each required skill is one Bernoulli trial (matched or not), so a job with ten required skills
 *   contributes ten observations and dominates a vague prior — skills are the most granular evidence.
 * - Experience is one composite criterion worth EXPERIENCE_WEIGHT observations, split by the fraction
 *   of the required years the candidate has. Years beyond the requirement earn no extra credit, and a
 *   role that requires no experience yields no experience evidence (nothing was tested).
 * - Education is a single criterion worth EDUCATION_WEIGHT observation; 'unknown' yields none.
 *
 * Evidence is applied in a fixed order (skills, experience, education) and each item reports the
 * posterior mean before and after it, so the shifts add up exactly to posterior mean − prior mean.
 */
import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import { JSON_TOO_DEEP_MESSAGE, jsonTextTooDeep } from '../json-safety';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------------
// Constants

/** Pseudo-observations per required skill: one Bernoulli trial per skill (matched = success). */
export const SKILL_WEIGHT = 1;
/**
 * Pseudo-observations for the experience criterion: worth two skills, since years of experience
 * summarise many unlisted abilities. A modelling choice, not an empirical estimate.
 */
export const EXPERIENCE_WEIGHT = 2;
/** Pseudo-observations for the education criterion: one criterion, one trial. */
export const EDUCATION_WEIGHT = 1;

/** Probability mass of the reported credible interval: 95 %, equal-tailed (2.5 % cut from each tail). */
export const CREDIBLE_MASS = 0.95;

/** Role family used when a request names none or names one without a configured prior. */
export const DEFAULT_ROLE_FAMILY = 'default';

/**
 * Built-in priors. Only the uniform Beta(1, 1) (Bayes–Laplace prior: every fit probability equally
 * likely before any evidence) is built in; anything more informative must come from configuration
 * (ROLE_PRIORS_SETTING), because choosing it needs data this code does not have.
 */
export const DEFAULT_ROLE_PRIORS: Readonly<Record<string, BetaParams>> = Object.freeze({
  [DEFAULT_ROLE_FAMILY]: Object.freeze({ alpha: 1, beta: 1 }),
});

/** Name of the app setting whose JSON value overrides/extends DEFAULT_ROLE_PRIORS. */
export const ROLE_PRIORS_SETTING = 'BRIDGE_BAYES_PRIORS';

// ---------------------------------------------------------------------------------------------------
// Types

export interface BetaParams {
  alpha: number;
  beta: number;
}

export type EducationMatch = 'exceeds' | 'meets' | 'below' | 'unknown';

export interface RoleFitProfile {
  /** Required skills the candidate has (0 ≤ skillsMatched ≤ skillsRequired). */
  skillsMatched: number;
  /** Skills the role requires. 0 = no skills evidence. */
  skillsRequired: number;
  /** Candidate's years of relevant experience (≥ 0). */
  experienceYears: number;
  /** Years the role asks for (≥ 0). 0 = no experience evidence. */
  requiredExperienceYears: number;
  /** How the candidate's education compares with the role's requirement. */
  educationMatch: EducationMatch;
}

export interface RoleFitInput {
  role: string;
  /** Looked up (trimmed, lower-cased) in the priors; falls back to DEFAULT_ROLE_FAMILY. */
  roleFamily?: string;
  profile: RoleFitProfile;
}

export type EvidenceKind = 'skills' | 'experience' | 'education';

export interface EvidenceItem {
  kind: EvidenceKind;
  /** Human-readable statement of what was observed. */
  description: string;
  /** Pseudo-successes added to α. */
  successes: number;
  /** Pseudo-failures added to β. */
  failures: number;
  /** Posterior mean before this item. */
  probabilityBefore: number;
  /** Posterior mean after this item. */
  probabilityAfter: number;
  /** probabilityAfter − probabilityBefore. */
  shift: number;
}

export interface RoleFitAssessment {
  role: string;
  /** The family whose prior was used. */
  roleFamily: string;
  /** 'family' when the requested family has a prior, 'default' when it fell back. */
  priorSource: 'family' | 'default';
  prior: BetaParams;
  posterior: BetaParams;
  /** Posterior mean α / (α + β). */
  probability: number;
  /** Equal-tailed credible interval holding CREDIBLE_MASS of the posterior. */
  credibleInterval: [number, number];
  credibleMass: number;
  /** What moved the estimate, in the order it was applied; empty when the profile says nothing. */
  evidence: EvidenceItem[];
}

// ---------------------------------------------------------------------------------------------------
// Beta helpers

export function betaMean({ alpha, beta }: BetaParams): number {
  return alpha / (alpha + beta);
}

/** Equal-tailed interval holding `mass` of Beta(α, β), from stdlib's Beta quantile. */
export function betaCredibleInterval(params: BetaParams, mass: number = CREDIBLE_MASS): [number, number] {
  assertBetaParams(params, 'params');
  if (!(mass > 0 && mass < 1)) throw new RangeError(`mass must be in (0, 1), got ${mass}`);
  const tail = (1 - mass) / 2;
  return [betaQuantile(tail, params.alpha, params.beta), betaQuantile(1 - tail, params.alpha, params.beta)];
}

function assertBetaParams(p: BetaParams, what: string): void {
  if (!(Number.isFinite(p.alpha) && p.alpha > 0 && Number.isFinite(p.beta) && p.beta > 0)) {
    throw new RangeError(`${what}: alpha and beta must be finite and > 0, got ${JSON.stringify(p)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Evidence

function requireNonNegative(value: number, name: string): void {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a finite number ≥ 0`);
}

/** The profile turned into pseudo-counts, in application order (without the probability shifts). */
export function profileEvidence(
  profile: RoleFitProfile,
): Pick<EvidenceItem, 'kind' | 'description' | 'successes' | 'failures'>[] {
  const { skillsMatched, skillsRequired, experienceYears, requiredExperienceYears, educationMatch } = profile;
  requireNonNegative(skillsMatched, 'skillsMatched');
  requireNonNegative(skillsRequired, 'skillsRequired');
  requireNonNegative(experienceYears, 'experienceYears');
  requireNonNegative(requiredExperienceYears, 'requiredExperienceYears');
  if (!Number.isInteger(skillsMatched) || !Number.isInteger(skillsRequired)) {
    throw new RangeError('skillsMatched and skillsRequired must be whole numbers');
  }
  if (skillsMatched > skillsRequired) throw new RangeError('skillsMatched must not exceed skillsRequired');

  const items: Pick<EvidenceItem, 'kind' | 'description' | 'successes' | 'failures'>[] = [];
  if (skillsRequired > 0) {
    items.push({
      kind: 'skills',
      description: `${skillsMatched} of ${skillsRequired} required skills matched`,
      successes: SKILL_WEIGHT * skillsMatched,
      failures: SKILL_WEIGHT * (skillsRequired - skillsMatched),
    });
  }
  if (requiredExperienceYears > 0) {
    const coverage = Math.min(1, experienceYears / requiredExperienceYears);
    items.push({
      kind: 'experience',
      description: `${experienceYears} of ${requiredExperienceYears} required years of experience`,
      successes: EXPERIENCE_WEIGHT * coverage,
      failures: EXPERIENCE_WEIGHT * (1 - coverage),
    });
  }
  if (educationMatch !== 'unknown') {
    const meets = educationMatch === 'meets' || educationMatch === 'exceeds';
    items.push({
      kind: 'education',
      description: `education ${educationMatch === 'below' ? 'is below' : educationMatch} the requirement`,
      successes: meets ? EDUCATION_WEIGHT : 0,
      failures: meets ? 0 : EDUCATION_WEIGHT,
    });
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------
// Model

export function normaliseRoleFamily(family: string | undefined): string {
  const f = family?.trim().toLowerCase() ?? '';
  return f === '' ? DEFAULT_ROLE_FAMILY : f;
}

/**
 * Posterior fit probability for `input.role` given its profile and the priors per role family
 * (as returned by parseRolePriors; DEFAULT_ROLE_PRIORS when omitted).
 */
export function assessRoleFit(
  input: RoleFitInput,
  priors: Readonly<Record<string, BetaParams>> = DEFAULT_ROLE_PRIORS,
): RoleFitAssessment {
  const requested = normaliseRoleFamily(input.roleFamily);
  const familyPrior =
    requested !== DEFAULT_ROLE_FAMILY && Object.prototype.hasOwnProperty.call(priors, requested)
      ? priors[requested]
      : undefined;
  const fallback = priors[DEFAULT_ROLE_FAMILY] ?? DEFAULT_ROLE_PRIORS[DEFAULT_ROLE_FAMILY];
  const prior = familyPrior ?? fallback;
  if (prior === undefined) throw new Error('no default prior configured'); // unreachable: the default is built in
  assertBetaParams(prior, `prior for role family "${familyPrior ? requested : DEFAULT_ROLE_FAMILY}"`);

  let current: BetaParams = { alpha: prior.alpha, beta: prior.beta };
  const evidence: EvidenceItem[] = [];
  for (const item of profileEvidence(input.profile)) {
    const before = betaMean(current);
    current = { alpha: current.alpha + item.successes, beta: current.beta + item.failures };
    const after = betaMean(current);
    evidence.push({ ...item, probabilityBefore: before, probabilityAfter: after, shift: after - before });
  }

  return {
    role: input.role,
    roleFamily: familyPrior ? requested : DEFAULT_ROLE_FAMILY,
    priorSource: familyPrior ? 'family' : 'default',
    prior: { alpha: prior.alpha, beta: prior.beta },
    posterior: current,
    probability: betaMean(current),
    credibleInterval: betaCredibleInterval(current, CREDIBLE_MASS),
    credibleMass: CREDIBLE_MASS,
    evidence,
  };
}

// ---------------------------------------------------------------------------------------------------
// Priors setting

const betaParamsSchema = z.strictObject({
  alpha: z.number().positive(),
  beta: z.number().positive(),
});

/** Shape of the ROLE_PRIORS_SETTING value: `{"<family>": {"alpha": n, "beta": n}, ...}`. */
export const rolePriorsSchema = z.record(
  z.string().refine((key) => key.trim() !== '', 'role family name must not be blank'),
  betaParamsSchema,
);

export class RolePriorsError extends Error {
  constructor(
    readonly setting: string,
    readonly problems: { entry: string | null; message: string }[],
  ) {
    super(
      `${setting}: ${problems.map((p) => (p.entry === null ? p.message : `entry "${p.entry}": ${p.message}`)).join('; ')}`,
    );
    this.name = 'RolePriorsError';
  }
}

/**
 * Parses the priors setting (a JSON object family → {alpha, beta}, both > 0) and merges it over
 * DEFAULT_ROLE_PRIORS; family names are trimmed and lower-cased. Empty/undefined → the defaults.
 * Throws RolePriorsError naming the setting and each bad entry.
 */
export function parseRolePriors(
  raw: string | undefined,
  setting: string = ROLE_PRIORS_SETTING,
): Record<string, BetaParams> {
  const merged: Record<string, BetaParams> = {};
  for (const [family, p] of Object.entries(DEFAULT_ROLE_PRIORS)) merged[family] = { ...p };
  if (raw === undefined || raw.trim() === '') return merged;

  if (jsonTextTooDeep(raw)) {
    throw new RolePriorsError(setting, [{ entry: null, message: JSON_TOO_DEEP_MESSAGE }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new RolePriorsError(setting, [
      { entry: null, message: `not valid JSON (${(err as Error).message})` },
    ]);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RolePriorsError(setting, [
      { entry: null, message: 'expected a JSON object mapping role family to {"alpha": n, "beta": n}' },
    ]);
  }
  const parsed = rolePriorsSchema.safeParse(json);
  if (!parsed.success) {
    throw new RolePriorsError(
      setting,
      parsed.error.issues.map((issue) => {
        const [entry, ...rest] = issue.path;
        const where = rest.length > 0 ? `${rest.map(String).join('.')}: ` : '';
        // A bad key arrives as one 'invalid_key' issue wrapping the key schema's own issues.
        const message =
          issue.code === 'invalid_key'
            ? issue.issues.map((inner) => inner.message).join('; ')
            : issue.message;
        return { entry: entry === undefined ? null : String(entry), message: `${where}${message}` };
      }),
    );
  }

  const seen = new Map<string, string>();
  const problems: { entry: string; message: string }[] = [];
  for (const [key, p] of Object.entries(parsed.data)) {
    const family = normaliseRoleFamily(key);
    const clash = seen.get(family);
    if (clash !== undefined) {
      problems.push({
        entry: key,
        message: `same family as entry "${clash}" after trimming and lower-casing`,
      });
      continue;
    }
    seen.set(family, key);
    merged[family] = { alpha: p.alpha, beta: p.beta };
  }
  if (problems.length > 0) throw new RolePriorsError(setting, problems);
  return merged;
}
