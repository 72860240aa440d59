/**
 * get_title_relationships: titles related to a given title, each with a relation kind and a strength.
 *
 * Strength (0..1) is a fixed function of the taxonomy, documented here so it can be explained:
 *   alias                 1.00   another name for the same title (no titleId)
 *   abbreviation          0.95   an abbreviation of the title; 0.60 when several titles share it
 *   progression-next      0.85 + 0.10·J   a promotion edge from this title
 *   progression-previous  0.80 + 0.10·J   a promotion edge into this title
 *   lateral               0.70 + 0.10·J   a lateral-move edge from or to this title
 *   related               0.60 + 0.30·J   listed in the curated `related` list (either direction)
 *   same-family           0.20 + 0.50·J   another title of the same family
 * where J is the Jaccard similarity of the two titles' skill sets (|A∩B| / |A∪B|). A title that has
 * several relations is listed once, under its strongest kind, with every kind in `kinds`.
 */
import { normalizeTitle, normalizeTitleText, type NormalizeOptions, type TitleMatch } from './normalize';
import type { TaxonomyIndex } from './taxonomy';
import type { JobTitle, Seniority, TypicalYears } from './taxonomy-schema';

export const RELATION_KINDS = [
  'alias',
  'abbreviation',
  'progression-next',
  'progression-previous',
  'lateral',
  'related',
  'same-family',
] as const;
export type RelationKind = (typeof RELATION_KINDS)[number];

export interface TitleRelationship {
  kind: RelationKind;
  /** All kinds that apply, strongest first. */
  kinds: RelationKind[];
  /** Null for aliases and abbreviations (they are names of the same title). */
  titleId: string | null;
  title: string;
  family: string | null;
  seniority: Seniority | null;
  strength: number;
  /** For progression and lateral relations: curated estimate from the progression edge. */
  typicalYears?: TypicalYears;
  sharedSkills: string[];
}

export interface TitleRelationships {
  input: string;
  match: TitleMatch;
  known: boolean;
  titleId: string | null;
  title: string;
  relationships: TitleRelationship[];
  /** Relationships left out by `limit`. */
  omitted: number;
}

export interface RelationshipOptions extends NormalizeOptions {
  /** Maximum number of relationships (default 25). */
  limit?: number;
  /** Only these kinds (default: all). */
  kinds?: readonly RelationKind[];
}

const BASE_STRENGTH: Readonly<Record<RelationKind, { base: number; skillWeight: number }>> = {
  alias: { base: 1, skillWeight: 0 },
  abbreviation: { base: 0.95, skillWeight: 0 },
  'progression-next': { base: 0.85, skillWeight: 0.1 },
  'progression-previous': { base: 0.8, skillWeight: 0.1 },
  lateral: { base: 0.7, skillWeight: 0.1 },
  related: { base: 0.6, skillWeight: 0.3 },
  'same-family': { base: 0.2, skillWeight: 0.5 },
};

const AMBIGUOUS_ABBREVIATION_STRENGTH = 0.6;

function skillSet(t: JobTitle): Set<string> {
  return new Set(t.skills.map((s) => s.toLowerCase()));
}

/** Jaccard similarity of two titles' skills and the shared skills (sorted). */
export function skillOverlap(a: JobTitle, b: JobTitle): { jaccard: number; shared: string[] } {
  const sa = skillSet(a);
  const sb = skillSet(b);
  const shared = [...sa].filter((s) => sb.has(s)).sort();
  const union = new Set([...sa, ...sb]).size;
  return { jaccard: union === 0 ? 0 : shared.length / union, shared };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function compareRelationships(a: TitleRelationship, b: TitleRelationship): number {
  if (b.strength !== a.strength) return b.strength - a.strength;
  const ka = RELATION_KINDS.indexOf(a.kind);
  const kb = RELATION_KINDS.indexOf(b.kind);
  if (ka !== kb) return ka - kb;
  return a.title < b.title ? -1 : a.title > b.title ? 1 : 0;
}

/** Relationships of a known taxonomy title (by id), all kinds, strongest first. */
export function relationshipsOf(index: TaxonomyIndex, titleId: string): TitleRelationship[] {
  const title = index.titles.get(titleId);
  if (!title) return [];
  const out: TitleRelationship[] = [];

  const seenNames = new Set<string>([title.name.toLowerCase()]);
  for (const alias of title.aliases) {
    if (seenNames.has(alias.toLowerCase())) continue;
    seenNames.add(alias.toLowerCase());
    out.push({
      kind: 'alias',
      kinds: ['alias'],
      titleId: null,
      title: alias,
      family: title.family,
      seniority: title.seniority,
      strength: BASE_STRENGTH.alias.base,
      sharedSkills: [],
    });
  }
  for (const abbreviation of title.abbreviations) {
    const ambiguous = (index.abbreviations.get(normalizeTitleText(abbreviation)) ?? []).length > 1;
    out.push({
      kind: 'abbreviation',
      kinds: ['abbreviation'],
      titleId: null,
      title: abbreviation,
      family: title.family,
      seniority: title.seniority,
      strength: ambiguous ? AMBIGUOUS_ABBREVIATION_STRENGTH : BASE_STRENGTH.abbreviation.base,
      sharedSkills: [],
    });
  }

  // Candidate relations per other title: kind → typical years (for edges).
  const candidates = new Map<string, Map<RelationKind, TypicalYears | undefined>>();
  const add = (id: string, kind: RelationKind, years?: TypicalYears): void => {
    if (id === titleId || !index.titles.has(id)) return;
    const kinds = candidates.get(id) ?? new Map<RelationKind, TypicalYears | undefined>();
    if (!kinds.has(kind)) kinds.set(kind, years);
    candidates.set(id, kinds);
  };
  for (const e of index.outgoing.get(titleId) ?? []) {
    add(e.to, e.kind === 'promotion' ? 'progression-next' : 'lateral', e.typicalYears);
  }
  for (const e of index.incoming.get(titleId) ?? []) {
    add(e.from, e.kind === 'promotion' ? 'progression-previous' : 'lateral', e.typicalYears);
  }
  for (const r of title.related) add(r, 'related');
  for (const t of index.titles.values()) if (t.related.includes(titleId)) add(t.id, 'related');
  for (const t of index.titlesByFamily.get(title.family) ?? []) add(t.id, 'same-family');

  for (const [id, kinds] of candidates) {
    const other = index.titles.get(id) as JobTitle;
    const { jaccard, shared } = skillOverlap(title, other);
    const scored = [...kinds.entries()]
      .map(([kind, years]) => ({
        kind,
        years,
        strength: Math.min(1, BASE_STRENGTH[kind].base + BASE_STRENGTH[kind].skillWeight * jaccard),
      }))
      .sort(
        (a, b) => b.strength - a.strength || RELATION_KINDS.indexOf(a.kind) - RELATION_KINDS.indexOf(b.kind),
      );
    const best = scored[0];
    if (!best) continue;
    const years = scored.find((s) => s.years !== undefined)?.years;
    const rel: TitleRelationship = {
      kind: best.kind,
      kinds: scored.map((s) => s.kind),
      titleId: id,
      title: other.name,
      family: other.family,
      seniority: other.seniority,
      strength: round3(best.strength),
      sharedSkills: shared,
    };
    if (years) rel.typicalYears = years;
    out.push(rel);
  }
  return out.sort(compareRelationships);
}

/**
 * Normalises `title` and lists its relationships. Unknown titles get no relationships (and the
 * normalisation result says why: `match.known === false`, with suggestions in match.alternatives).
 */
export function getTitleRelationships(
  index: TaxonomyIndex,
  title: string,
  options: RelationshipOptions = {},
): TitleRelationships {
  const match = normalizeTitle(index, title, options);
  const limit = Math.max(0, Math.floor(options.limit ?? 25));
  const kinds = options.kinds ? new Set(options.kinds) : null;
  const all = match.titleId
    ? relationshipsOf(index, match.titleId).filter((r) => kinds === null || kinds.has(r.kind))
    : [];
  return {
    input: title,
    match,
    known: match.known,
    titleId: match.titleId,
    title: match.normalizedTitle,
    relationships: all.slice(0, limit),
    omitted: Math.max(0, all.length - limit),
  };
}
