/**
 * analyze_job_title: what the taxonomy knows about one free-text title.
 *
 * The result is deterministic and comes only from the curated taxonomy: the normalised title,
 * its family, seniority, typical skills, the strongest related titles and a confidence (the
 * normalisation confidence). With `context.skills` it also reports which of the title's typical
 * skills the caller has (case-insensitive exact match).
 */
import { normalizeTitle, type NormalizeOptions, type TitleAlternative, type MatchType } from './normalize';
import { relationshipsOf, type RelationKind } from './relationships';
import type { TaxonomyIndex } from './taxonomy';
import { SENIORITY_LABELS, type Seniority } from './taxonomy-schema';

export interface AnalyzeContext extends NormalizeOptions {
  /** The caller's skills, compared with the title's typical skills. */
  skills?: readonly string[];
  /** How many related titles to return (default 8). */
  relatedLimit?: number;
}

export interface RelatedTitle {
  titleId: string;
  title: string;
  kind: RelationKind;
  strength: number;
}

export interface SkillMatch {
  /** Typical skills of the title that the caller listed. */
  matched: string[];
  /** Typical skills of the title the caller did not list. */
  missing: string[];
  /** Caller skills that are not typical for the title. */
  additional: string[];
  /** matched / typical skills, 0..1 (0 when the title lists no skills). */
  coverage: number;
}

export interface JobTitleAnalysis {
  input: string;
  known: boolean;
  matchType: MatchType;
  /** Display form (see TitleMatch.normalizedTitle). */
  normalizedTitle: string;
  canonicalTitle: string | null;
  titleId: string | null;
  family: { id: string; name: string } | null;
  seniority: Seniority | null;
  seniorityLabel: string | null;
  /** SOC 2018 code of the matched title when the taxonomy records one. */
  soc: string | null;
  skills: string[];
  relatedTitles: RelatedTitle[];
  /** 0..1, from normalisation. */
  confidence: number;
  /** Other plausible titles, or suggestions when unknown. */
  alternatives: TitleAlternative[];
  skillMatch?: SkillMatch;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export function compareSkills(typical: readonly string[], mine: readonly string[]): SkillMatch {
  const have = new Map(
    mine.map((s) => [s.trim().toLowerCase(), s.trim()] as const).filter(([k]) => k.length > 0),
  );
  const typicalKeys = new Set(typical.map((s) => s.toLowerCase()));
  const matched = typical.filter((s) => have.has(s.toLowerCase()));
  const missing = typical.filter((s) => !have.has(s.toLowerCase()));
  const additional = [...have.entries()].filter(([k]) => !typicalKeys.has(k)).map(([, v]) => v);
  return {
    matched,
    missing,
    additional,
    coverage: typical.length === 0 ? 0 : round3(matched.length / typical.length),
  };
}

export function analyzeJobTitle(
  index: TaxonomyIndex,
  title: string,
  context: AnalyzeContext = {},
): JobTitleAnalysis {
  const match = normalizeTitle(index, title, context);
  const t = match.titleId ? index.titles.get(match.titleId) : undefined;
  const family = t ? index.families.get(t.family) : undefined;
  const relatedLimit = Math.max(0, Math.floor(context.relatedLimit ?? 8));
  const relatedTitles: RelatedTitle[] = t
    ? relationshipsOf(index, t.id)
        .filter((r): r is typeof r & { titleId: string } => r.titleId !== null)
        .slice(0, relatedLimit)
        .map((r) => ({ titleId: r.titleId, title: r.title, kind: r.kind, strength: r.strength }))
    : [];
  const analysis: JobTitleAnalysis = {
    input: title,
    known: match.known,
    matchType: match.matchType,
    normalizedTitle: match.normalizedTitle,
    canonicalTitle: match.canonicalTitle,
    titleId: match.titleId,
    family: family ? { id: family.id, name: family.name } : null,
    seniority: match.seniority,
    seniorityLabel: match.seniority ? SENIORITY_LABELS[match.seniority] : null,
    soc: t?.soc ?? null,
    skills: t ? [...t.skills] : [],
    relatedTitles,
    confidence: match.confidence,
    alternatives: match.alternatives,
  };
  if (context.skills) analysis.skillMatch = compareSkills(analysis.skills, context.skills);
  return analysis;
}
