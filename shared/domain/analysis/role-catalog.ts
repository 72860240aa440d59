/**
 * What the job-title taxonomy (data/job-titles/taxonomy.json, shared/domain/job-titles) knows about a
 * target role: its canonical title, family, seniority, typical skills and the titles people usually
 * move from into it. The heuristic provider computes from this, and the AI providers get it as context.
 *
 * Pure: the taxonomy is passed in. If it cannot be loaded, the lookup (shared/services/role-lookup.ts)
 * answers "unknown" for every role (the analyses still work from the profile alone) and says why in
 * `taxonomy.error`.
 */
import { analyzeJobTitle, promotionsInto, type Seniority, type TaxonomyIndex } from '../job-titles';

export interface SteppingStone {
  title: string;
  /** Curated typical years spent in the stepping-stone title before the move (not survey data). */
  typicalYears: { min: number; max: number };
}

export interface RoleInfo {
  /** The role as asked. */
  input: string;
  known: boolean;
  title: string | null;
  titleId: string | null;
  family: { id: string; name: string } | null;
  /** From the matched title, or from seniority words in the input ("Senior …") when unknown. */
  seniority: Seniority | null;
  /** The title's typical skills (lower-case, as curated). */
  typicalSkills: string[];
  /** 0..1: how surely the input names the title (the taxonomy's normalisation confidence). */
  matchConfidence: number;
  /** Closest known titles when the role is unknown (or ambiguous). */
  alternatives: string[];
  /** Titles with a promotion edge into this one. */
  steppingStones: SteppingStone[];
  taxonomy: { version: string | null; error?: string };
}

export type RoleLookup = (role: string) => Promise<RoleInfo>;

/** What `index` knows about `role`. */
export function describeRole(index: TaxonomyIndex, role: string): RoleInfo {
  const analysis = analyzeJobTitle(index, role, { relatedLimit: 0 });
  const steppingStones: SteppingStone[] = analysis.titleId
    ? promotionsInto(index, analysis.titleId).flatMap((edge) => {
        const from = index.titles.get(edge.from);
        return from ? [{ title: from.name, typicalYears: { ...edge.typicalYears } }] : [];
      })
    : [];
  return {
    input: role,
    known: analysis.known,
    title: analysis.canonicalTitle,
    titleId: analysis.titleId,
    family: analysis.family,
    seniority: analysis.seniority,
    typicalSkills: analysis.skills,
    matchConfidence: analysis.confidence,
    alternatives: analysis.alternatives.map((a) => a.title),
    steppingStones,
    taxonomy: { version: index.taxonomy.version },
  };
}

/** What is known of a role without a taxonomy: nothing (`taxonomy` says why, when there is a reason). */
export function unknownRole(role: string, taxonomy: RoleInfo['taxonomy'] = { version: null }): RoleInfo {
  return {
    input: role,
    known: false,
    title: null,
    titleId: null,
    family: null,
    seniority: null,
    typicalSkills: [],
    matchConfidence: 0,
    alternatives: [],
    steppingStones: [],
    taxonomy,
  };
}
