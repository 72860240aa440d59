/**
 * The heuristic provider's analysis: deterministic and local (pure; no I/O), always last in the
 * provider order and the answer whenever no AI provider can give one (AnalysisService). Its results
 * say `provider: "heuristic"` and `degraded: true`.
 *
 * Everything in a result is computed from the request and the job-title taxonomy; nothing is invented:
 * - required skills = the taxonomy's typical skills of the target title; a skill is matched when the
 *   profile lists it (case-insensitive) or the CV text mentions it as a whole word;
 * - required experience = REQUIRED_YEARS_BY_SENIORITY of the title's seniority (stated assumption);
 * - score = 100 × the posterior fit probability of the Beta-Binomial role-fit model
 *   (shared/domain/analysis/bayesian.ts) over those skills and years, with the role family's prior;
 * - confidence = (1 − width of the fit's 95 % credible interval) × how surely the role was recognised.
 */
import type { Seniority } from '../job-titles';
import { assessRoleFit, type BetaParams } from './bayesian';
import type { RoleInfo } from './role-catalog';
import { MAX_ITEM_TEXT, type ComprehensiveAnalysis, type ComprehensiveRequest } from './schemas';

export const HEURISTIC_MODEL = 'heuristic-v1';

/**
 * Years of experience a title of each seniority usually asks for. An editorial assumption in line
 * with common job-ad wording ("mid: 2+ years", "senior: 5+ years", …), not survey data.
 */
export const REQUIRED_YEARS_BY_SENIORITY: Readonly<Record<Seniority, number>> = Object.freeze({
  intern: 0,
  entry: 0,
  mid: 2,
  senior: 5,
  lead: 7,
  principal: 10,
  manager: 5,
  director: 10,
  vp: 12,
  executive: 15,
});

/** Unrecognised role: no required-skill evidence, so at most half the trust of a recognised one. */
export const UNKNOWN_ROLE_FACTOR = 0.5;
/** Missing skills turned into recommendations, most typical first (the taxonomy's order). */
export const MAX_SKILL_RECOMMENDATIONS = 5;
/** Items named inline in one strength or gap sentence. */
const MAX_NAMED = 12;

/** Highest recognised qualification, by keyword; level 0 = not recognised. */
const EDUCATION_LEVELS: readonly { pattern: RegExp; level: number; label: string }[] = [
  { pattern: /\b(ph\.?\s?d|doctorate|doctoral|dphil|d\.?phil)\b/i, level: 5, label: 'doctorate' },
  {
    pattern: /\b(master'?s?|m\.?sc|msc|mba|m\.?eng|meng|mphil|llm|m\.a\.|ma)\b/i,
    level: 4,
    label: "master's degree",
  },
  {
    pattern: /\b(bachelor'?s?|b\.?sc|bsc|b\.?eng|beng|b\.a\.|ba|bs|llb|undergraduate|degree)\b/i,
    level: 3,
    label: "bachelor's degree",
  },
  {
    pattern: /\b(associate'?s?|diploma|hnd|hnc|foundation degree)\b/i,
    level: 2,
    label: 'associate degree or diploma',
  },
  {
    pattern: /\b(high school|secondary|a-?levels?|gcses?|ged|baccalaur[ée]at)\b/i,
    level: 1,
    label: 'secondary education',
  },
];

export interface HeuristicAnalysis {
  analysis: ComprehensiveAnalysis;
  confidence: number;
  model: string;
}

export function recogniseEducation(text: string): { level: number; label: string | null } {
  for (const { pattern, level, label } of EDUCATION_LEVELS) if (pattern.test(text)) return { level, label };
  return { level: 0, label: null };
}

function key(skill: string): string {
  return skill.trim().replace(/\s+/g, ' ').toLowerCase();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whole-word, case-insensitive mention of `skill` in `text` ("c++" and "ci/cd" included). */
export function mentions(text: string, skill: string): boolean {
  const words = key(skill).split(' ').map(escapeRegExp).join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${words}(?![\\p{L}\\p{N}])`, 'iu').test(text);
}

function list(items: readonly string[]): string {
  if (items.length <= MAX_NAMED) return items.join(', ');
  return `${items.slice(0, MAX_NAMED).join(', ')} and ${items.length - MAX_NAMED} more`;
}

/** Result items are bounded (MAX_ITEM_TEXT); a very long one is cut with an ellipsis. */
function clip(item: string): string {
  return item.length > MAX_ITEM_TEXT ? `${item.slice(0, MAX_ITEM_TEXT - 1)}…` : item;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The comprehensive analysis computed locally from the request and what the taxonomy knows about the role. */
export function heuristicComprehensive(
  request: ComprehensiveRequest,
  role: RoleInfo,
  priors?: Readonly<Record<string, BetaParams>>,
): HeuristicAnalysis {
  // The profile's skills, de-duplicated case-insensitively, first spelling kept.
  const listed = new Map<string, string>();
  for (const s of request.skills) if (!listed.has(key(s))) listed.set(key(s), s.trim());
  const text = request.text ?? '';

  const typical = [...new Map(role.typicalSkills.map((s) => [key(s), s])).values()];
  const typicalKeys = new Set(typical.map(key));
  const matched: string[] = [];
  const mentionedOnly: string[] = [];
  const missing: string[] = [];
  for (const skill of typical) {
    const own = listed.get(key(skill));
    if (own !== undefined) matched.push(own);
    else if (text !== '' && mentions(text, skill)) {
      matched.push(skill);
      mentionedOnly.push(skill);
    } else missing.push(skill);
  }
  const additional = [...listed.entries()].filter(([k]) => !typicalKeys.has(k)).map(([, v]) => v);

  const requiredYears = role.seniority ? REQUIRED_YEARS_BY_SENIORITY[role.seniority] : 0;
  const years = request.experienceYears;
  const education = recogniseEducation(request.education);
  const titleName = role.title ?? request.targetRole;
  const levelName = role.seniority ?? 'this';

  const fit = assessRoleFit(
    {
      role: request.targetRole,
      ...(role.family ? { roleFamily: role.family.id } : {}),
      profile: {
        skillsMatched: matched.length,
        skillsRequired: typical.length,
        experienceYears: years,
        requiredExperienceYears: requiredYears,
        educationMatch: 'unknown',
      },
    },
    priors,
  );

  const strengths: string[] = [];
  const gaps: string[] = [];
  const recommendations: string[] = [];

  if (matched.length > 0) {
    strengths.push(
      `Has ${matched.length} of ${typical.length} skills typical for ${titleName}: ${list(matched)}.`,
    );
  }
  if (mentionedOnly.length > 0) {
    strengths.push(`The CV text mentions ${list(mentionedOnly)}, though the skills list does not.`);
  }
  if (additional.length > 0) {
    strengths.push(`Also brings skills beyond the typical set for ${titleName}: ${list(additional)}.`);
  }
  if (requiredYears > 0 && years >= requiredYears) {
    strengths.push(
      `${years} years of experience, at or above the ~${requiredYears} typical for ${levelName} roles.`,
    );
  } else if (requiredYears === 0 && years > 0) {
    strengths.push(`${years} years of experience.`);
  }
  if (education.label !== null) {
    strengths.push(`Education: ${request.education} (recognised as ${education.label}).`);
  }

  if (!role.known) {
    gaps.push(
      `The target role "${request.targetRole}" is not in the job-title taxonomy, so its required skills could not be checked.`,
    );
  } else if (missing.length > 0) {
    gaps.push(
      `Missing ${missing.length} of ${typical.length} skills typical for ${titleName}: ${list(missing)}.`,
    );
  }
  if (requiredYears > 0 && years < requiredYears) {
    gaps.push(`${years} years of experience, below the ~${requiredYears} typical for ${levelName} roles.`);
  }

  for (const skill of missing.slice(0, MAX_SKILL_RECOMMENDATIONS)) {
    recommendations.push(`Build and evidence ${skill}: typical for ${titleName}.`);
  }
  if (requiredYears > 0 && years < requiredYears && role.steppingStones.length > 0) {
    const stones = role.steppingStones
      .map((s) => `${s.title} (typically ${s.typicalYears.min}–${s.typicalYears.max} years before the move)`)
      .join('; ');
    recommendations.push(`Consider a stepping-stone role towards ${titleName}: ${stones}.`);
  }
  if (!role.known && role.alternatives.length > 0) {
    recommendations.push(
      `Check the target role; the closest known titles are: ${role.alternatives.join(', ')}.`,
    );
  }
  if (education.label === null) {
    recommendations.push(
      'State the highest qualification explicitly (e.g. "BSc Computer Science") so it can be assessed.',
    );
  }
  if (recommendations.length === 0) {
    recommendations.push(
      `The profile covers what ${titleName} typically asks for; back each skill with concrete outcomes.`,
    );
  }

  const [low, high] = fit.credibleInterval;
  const recognition = role.known ? role.matchConfidence : UNKNOWN_ROLE_FACTOR;
  return {
    analysis: {
      score: round1(fit.probability * 100),
      strengths: strengths.map(clip),
      gaps: gaps.map(clip),
      recommendations: recommendations.map(clip),
      matchedSkills: matched,
      missingSkills: missing,
    },
    confidence: round3(Math.max(0, Math.min(1, (1 - (high - low)) * recognition))),
    model: role.taxonomy.version ? `${HEURISTIC_MODEL}+taxonomy-${role.taxonomy.version}` : HEURISTIC_MODEL,
  };
}
