/**
 * Career recommendations (pure; no I/O): next roles and skills to learn for a candidate, from the
 * taxonomy's progression edges and typical skills. Every item carries its reason (a sentence) and
 * its evidence (where each fact came from), and nothing is estimated beyond what the taxonomy and
 * the candidate's own records say.
 *
 * - Next roles: the promotions and lateral moves out of the current title, and the target title
 *   (with the shortest promotion path to it, when there is one). Without a current title: the
 *   titles whose typical skills the candidate covers best.
 * - readiness = the share of the role's typical skills the candidate has (0..1).
 * - Roles are ordered by readiness, then by the curated typical years before the move.
 * - Skills to learn: the typical skills of those roles (and of the current title) the candidate
 *   lacks, most needed first (by how many of the roles need them; the target counts twice), then
 *   by how common they are across the taxonomy.
 */
import { promotionPaths, type TaxonomyIndex } from '../job-titles';
import type { JobTitle, ProgressionEdge, Seniority, TypicalYears } from '../job-titles/taxonomy-schema';
import type { CandidateView, TitleEvidence } from './candidate';

export const MAX_NEXT_ROLES = 8;
export const MAX_SKILLS_TO_LEARN = 10;
/** Without a current title: titles suggested from skills alone, at most. */
export const MAX_SKILL_BASED_ROLES = 5;
/** A skills-only suggestion needs at least this many of the title's typical skills. */
export const MIN_SKILL_OVERLAP = 2;

export interface Evidence {
  /** `taxonomy`, `profile`, `profile.<field>`, `resume:<id>`, `resume-text:<id>`, `query`. */
  source: string;
  detail: string;
}

export interface RoleRecommendation {
  titleId: string;
  title: string;
  family: string;
  seniority: Seniority;
  kind: 'promotion' | 'lateral' | 'target' | 'skills-match';
  typicalYears: TypicalYears | null;
  readiness: number;
  matchedSkills: string[];
  missingSkills: string[];
  reason: string;
  evidence: Evidence[];
}

export interface SkillRecommendation {
  skill: string;
  /** Title ids of the recommended roles (and the current title) that list it. */
  neededBy: string[];
  reason: string;
  evidence: Evidence[];
}

export interface CareerRecommendations {
  userId: string;
  current: TitleEvidence | null;
  target: TitleEvidence | null;
  skills: { total: number; sources: Record<string, number> };
  nextRoles: RoleRecommendation[];
  skillsToLearn: SkillRecommendation[];
  /** A path of promotions from the current title to the target, when the taxonomy has one. */
  pathToTarget: { steps: { titleId: string; title: string }[]; typicalYears: TypicalYears } | null;
  notes: string[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const years = (y: TypicalYears) => `${y.min}–${y.max} years`;

function skillEvidence(candidate: CandidateView, skills: readonly string[]): Evidence[] {
  const bySkill = new Map(candidate.skills.map((s) => [s.skill, s.sources]));
  const bySource = new Map<string, string[]>();
  for (const skill of skills) {
    for (const source of bySkill.get(skill) ?? []) {
      const list = bySource.get(source) ?? [];
      list.push(skill);
      bySource.set(source, list);
    }
  }
  return [...bySource.entries()].map(([source, list]) => ({ source, detail: `has ${list.join(', ')}` }));
}

function roleFor(
  candidate: CandidateView,
  have: ReadonlySet<string>,
  title: JobTitle,
  kind: RoleRecommendation['kind'],
  why: { reason: string; evidence: Evidence[]; typicalYears: TypicalYears | null },
): RoleRecommendation {
  const typical = [...new Set(title.skills)];
  const matchedSkills = typical.filter((s) => have.has(s));
  const missingSkills = typical.filter((s) => !have.has(s));
  const readiness = typical.length > 0 ? matchedSkills.length / typical.length : 0;
  const skillsSentence =
    typical.length > 0
      ? ` You have ${matchedSkills.length} of its ${typical.length} typical skills${missingSkills.length > 0 ? `; missing: ${missingSkills.slice(0, 6).join(', ')}${missingSkills.length > 6 ? ', …' : ''}` : ''}.`
      : '';
  return {
    titleId: title.id,
    title: title.name,
    family: title.family,
    seniority: title.seniority,
    kind,
    typicalYears: why.typicalYears,
    readiness: round3(readiness),
    matchedSkills,
    missingSkills,
    reason: `${why.reason}${skillsSentence}`,
    evidence: [
      ...why.evidence,
      {
        source: 'taxonomy',
        detail: `typical skills of ${title.name}: ${typical.join(', ') || 'none listed'}`,
      },
      ...skillEvidence(candidate, matchedSkills),
    ],
  };
}

/** Shortest promotion path (fewest steps, then fewest years) from one title to another, up to 6 moves. */
export function pathBetween(
  index: TaxonomyIndex,
  fromId: string,
  toId: string,
): CareerRecommendations['pathToTarget'] {
  const paths = promotionPaths(index, fromId, 6);
  let best: CareerRecommendations['pathToTarget'] = null;
  for (const p of paths) {
    const at = p.steps.findIndex((s) => s.titleId === toId);
    if (at < 0) continue;
    const steps = p.steps.slice(0, at + 1);
    // Years of the truncated path: sum the edges along it.
    let min = 0;
    let max = 0;
    let prev = fromId;
    for (const s of steps) {
      const edge = (index.outgoing.get(prev) ?? []).find((e) => e.to === s.titleId && e.kind === 'promotion');
      if (edge) {
        min += edge.typicalYears.min;
        max += edge.typicalYears.max;
      }
      prev = s.titleId;
    }
    if (
      best === null ||
      steps.length < best.steps.length ||
      (steps.length === best.steps.length && min < best.typicalYears.min)
    ) {
      best = {
        steps: steps.map((s) => ({ titleId: s.titleId, title: s.title })),
        typicalYears: { min, max },
      };
    }
  }
  return best;
}

export function recommendCareer(index: TaxonomyIndex, candidate: CandidateView): CareerRecommendations {
  const have = new Set(candidate.skills.map((s) => s.skill));
  const notes = [...candidate.notes];
  const roles: RoleRecommendation[] = [];
  const current = candidate.current ? index.titles.get(candidate.current.titleId) : undefined;
  const currentEvidence: Evidence[] = candidate.current
    ? [
        {
          source: candidate.current.source,
          detail: `current title ${candidate.current.title} (from "${candidate.current.from}")`,
        },
      ]
    : [];

  if (current) {
    for (const edge of index.outgoing.get(current.id) ?? []) {
      const next = index.titles.get(edge.to);
      if (!next) continue;
      roles.push(
        roleFor(candidate, have, next, edge.kind, {
          reason: `${edge.kind === 'promotion' ? 'A usual promotion' : 'A usual lateral move'} from ${current.name}, typically after ${years(edge.typicalYears)} in it.`,
          evidence: [
            ...currentEvidence,
            { source: 'taxonomy', detail: progressionDetail(current, next, edge) },
          ],
          typicalYears: { ...edge.typicalYears },
        }),
      );
    }
    if (roles.length === 0) notes.push(`The taxonomy lists no moves out of ${current.name}.`);
  } else if (have.size > 0) {
    const scored = index.taxonomy.titles
      .map((t) => ({ t, overlap: t.skills.filter((s) => have.has(s)).length }))
      .filter((x) => x.overlap >= MIN_SKILL_OVERLAP)
      .sort(
        (a, b) =>
          b.overlap / b.t.skills.length - a.overlap / a.t.skills.length ||
          b.overlap - a.overlap ||
          (a.t.id < b.t.id ? -1 : 1),
      )
      .slice(0, MAX_SKILL_BASED_ROLES);
    for (const { t } of scored) {
      roles.push(
        roleFor(candidate, have, t, 'skills-match', {
          reason: `Your skills overlap with what ${t.name} typically needs.`,
          evidence: [],
          typicalYears: null,
        }),
      );
    }
    if (scored.length === 0)
      notes.push(
        `No title has ${MIN_SKILL_OVERLAP} or more of the candidate's skills among its typical skills.`,
      );
  }

  let pathToTarget: CareerRecommendations['pathToTarget'] = null;
  const target = candidate.target ? index.titles.get(candidate.target.titleId) : undefined;
  if (target && candidate.target) {
    if (current) pathToTarget = pathBetween(index, current.id, target.id);
    const existing = roles.find((r) => r.titleId === target.id);
    const targetEvidence: Evidence = {
      source: candidate.target.source,
      detail: `target title ${target.name}`,
    };
    if (existing) {
      existing.evidence.unshift(targetEvidence);
      existing.reason = `Your target role. ${existing.reason}`;
    } else {
      const pathText = pathToTarget
        ? ` The taxonomy's shortest promotion path: ${pathToTarget.steps.map((s) => s.title).join(' → ')}, typically ${years(pathToTarget.typicalYears)}.`
        : current && current.id !== target.id
          ? ` The taxonomy has no promotion path from ${current.name} to it.`
          : '';
      roles.unshift(
        roleFor(candidate, have, target, 'target', {
          reason: `Your target role.${pathText}`,
          evidence: [
            targetEvidence,
            ...(pathToTarget
              ? [
                  {
                    source: 'taxonomy',
                    detail: `promotion path ${pathToTarget.steps.map((s) => s.titleId).join(' → ')}`,
                  },
                ]
              : []),
          ],
          typicalYears: pathToTarget ? pathToTarget.typicalYears : null,
        }),
      );
    }
  }

  roles.sort(
    (a, b) =>
      Number(b.kind === 'target') - Number(a.kind === 'target') ||
      b.readiness - a.readiness ||
      (a.typicalYears?.min ?? 99) - (b.typicalYears?.min ?? 99) ||
      (a.title < b.title ? -1 : a.title > b.title ? 1 : 0),
  );
  const nextRoles = roles.slice(0, MAX_NEXT_ROLES);

  // Skills to learn: what those roles (target twice) and the current title need and the candidate lacks.
  const need = new Map<string, { weight: number; by: string[]; names: string[] }>();
  const note = (skill: string, titleId: string, name: string, weight: number) => {
    const entry = need.get(skill) ?? { weight: 0, by: [], names: [] };
    if (!entry.by.includes(titleId)) {
      entry.by.push(titleId);
      entry.names.push(name);
      entry.weight += weight;
    }
    need.set(skill, entry);
  };
  for (const r of nextRoles)
    for (const s of r.missingSkills) note(s, r.titleId, r.title, r.kind === 'target' ? 2 : 1);
  if (current)
    for (const s of current.skills) if (!have.has(s)) note(s, current.id, `${current.name} (current)`, 1);
  const titleCounts = new Map<string, number>();
  for (const t of index.taxonomy.titles)
    for (const s of new Set(t.skills)) titleCounts.set(s, (titleCounts.get(s) ?? 0) + 1);
  const skillsToLearn: SkillRecommendation[] = [...need.entries()]
    .sort(
      (a, b) =>
        b[1].weight - a[1].weight ||
        (titleCounts.get(b[0]) ?? 0) - (titleCounts.get(a[0]) ?? 0) ||
        (a[0] < b[0] ? -1 : 1),
    )
    .slice(0, MAX_SKILLS_TO_LEARN)
    .map(([skill, n]) => ({
      skill,
      neededBy: n.by,
      reason: `Typical for ${n.names.join(', ')}, and not among your skills.`,
      evidence: [
        {
          source: 'taxonomy',
          detail: `listed as a typical skill of ${n.names.join(', ')}; ${titleCounts.get(skill) ?? 0} titles in the taxonomy list it`,
        },
      ],
    }));

  const sources: Record<string, number> = {};
  for (const s of candidate.skills) for (const src of s.sources) sources[src] = (sources[src] ?? 0) + 1;
  if (candidate.skills.length === 0)
    notes.push(
      'No skills are known: add them to the profile (POST /api/profile/{userId}/skills) or upload a resume.',
    );
  return {
    userId: candidate.userId,
    current: candidate.current,
    target: candidate.target,
    skills: { total: candidate.skills.length, sources },
    nextRoles,
    skillsToLearn,
    pathToTarget,
    notes,
  };
}

function progressionDetail(from: JobTitle, to: JobTitle, edge: ProgressionEdge): string {
  return `progression ${from.id} → ${to.id} (${edge.kind}, typically ${years(edge.typicalYears)})`;
}
