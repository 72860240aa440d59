/**
 * get_career_pathways: next roles, lateral moves, earlier roles and multi-step promotion paths.
 *
 * Everything comes from the taxonomy's progression edges. `typicalYears` on an edge is the curated
 * estimate of the years usually spent in the `from` role before that move (see
 * data/job-titles/README.md); it is copied from the dataset, never computed or invented at run time.
 * A multi-step path's `typicalYears` is the sum of its edges' minimums and maximums.
 */
import { normalizeTitle, type NormalizeOptions, type TitleMatch } from './normalize';
import type { TaxonomyIndex } from './taxonomy';
import type { JobTitle, ProgressionEdge, Seniority, TypicalYears } from './taxonomy-schema';

export interface TitleRef {
  titleId: string;
  title: string;
  family: string;
  seniority: Seniority;
}

export interface PathwayStep extends TitleRef {
  kind: ProgressionEdge['kind'];
  /** Curated estimate from the progression edge (years in the earlier role before the move). */
  typicalYears: TypicalYears;
  /** True when the move crosses into another job family. */
  changesFamily: boolean;
}

export interface CareerPath {
  /** Titles after the current one, in order. */
  steps: TitleRef[];
  /** Sum of the edges' typicalYears. */
  typicalYears: TypicalYears;
}

export interface CareerPathways {
  input: string;
  match: TitleMatch;
  known: boolean;
  current: TitleRef | null;
  nextRoles: PathwayStep[];
  lateralMoves: PathwayStep[];
  previousRoles: PathwayStep[];
  /** Promotion-only paths of up to `maxSteps` moves, shortest total time first. */
  paths: CareerPath[];
  /** Paths left out by `maxPaths`. */
  omittedPaths: number;
  note: string;
}

export interface PathwayOptions extends NormalizeOptions {
  /** Longest promotion path to enumerate (1–6, default 3). */
  maxSteps?: number;
  /** Most paths to return (default 10). */
  maxPaths?: number;
}

export const TYPICAL_YEARS_NOTE =
  'typicalYears are curated editorial estimates stored on the taxonomy progression edges (years usually spent in the earlier role before the move); they are not survey statistics and are not computed at run time.';

function ref(t: JobTitle): TitleRef {
  return { titleId: t.id, title: t.name, family: t.family, seniority: t.seniority };
}

function step(
  index: TaxonomyIndex,
  from: JobTitle,
  edge: ProgressionEdge,
  otherId: string,
): PathwayStep | null {
  const other = index.titles.get(otherId);
  if (!other) return null;
  return {
    ...ref(other),
    kind: edge.kind,
    typicalYears: { ...edge.typicalYears },
    changesFamily: other.family !== from.family,
  };
}

function compareText(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSteps(a: PathwayStep, b: PathwayStep): number {
  return (
    a.typicalYears.min - b.typicalYears.min ||
    a.typicalYears.max - b.typicalYears.max ||
    compareText(a.title, b.title)
  );
}

/** Maximal promotion paths (ending at depth `maxSteps` or at a title with no promotion). */
export function promotionPaths(index: TaxonomyIndex, titleId: string, maxSteps: number): CareerPath[] {
  const paths: CareerPath[] = [];
  const walk = (id: string, trail: string[], min: number, max: number): void => {
    const next = (index.outgoing.get(id) ?? []).filter(
      (e) => e.kind === 'promotion' && !trail.includes(e.to),
    );
    if (trail.length > 1 && (trail.length - 1 >= maxSteps || next.length === 0)) {
      paths.push({
        steps: trail.slice(1).map((t) => ref(index.titles.get(t) as JobTitle)),
        typicalYears: { min, max },
      });
      return;
    }
    for (const e of next) walk(e.to, [...trail, e.to], min + e.typicalYears.min, max + e.typicalYears.max);
  };
  walk(titleId, [titleId], 0, 0);
  const key = (p: CareerPath): string => p.steps.map((s) => s.titleId).join('>');
  return paths.sort(
    (a, b) =>
      a.typicalYears.min - b.typicalYears.min ||
      a.typicalYears.max - b.typicalYears.max ||
      (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0),
  );
}

export function getCareerPathways(
  index: TaxonomyIndex,
  title: string,
  options: PathwayOptions = {},
): CareerPathways {
  const match = normalizeTitle(index, title, options);
  const maxSteps = Math.min(6, Math.max(1, Math.floor(options.maxSteps ?? 3)));
  const maxPaths = Math.max(0, Math.floor(options.maxPaths ?? 10));
  const current = match.titleId ? index.titles.get(match.titleId) : undefined;
  if (!current) {
    return {
      input: title,
      match,
      known: false,
      current: null,
      nextRoles: [],
      lateralMoves: [],
      previousRoles: [],
      paths: [],
      omittedPaths: 0,
      note: TYPICAL_YEARS_NOTE,
    };
  }
  const out = index.outgoing.get(current.id) ?? [];
  const inc = index.incoming.get(current.id) ?? [];
  const nextRoles = out
    .filter((e) => e.kind === 'promotion')
    .map((e) => step(index, current, e, e.to))
    .filter((s): s is PathwayStep => s !== null)
    .sort(compareSteps);
  const lateralMoves = out
    .filter((e) => e.kind === 'lateral')
    .map((e) => step(index, current, e, e.to))
    .filter((s): s is PathwayStep => s !== null)
    .sort(compareSteps);
  const previousRoles = inc
    .filter((e) => e.kind === 'promotion')
    .map((e) => step(index, current, e, e.from))
    .filter((s): s is PathwayStep => s !== null)
    .sort(compareSteps);
  const paths = promotionPaths(index, current.id, maxSteps);
  return {
    input: title,
    match,
    known: match.known,
    current: ref(current),
    nextRoles,
    lateralMoves,
    previousRoles,
    paths: paths.slice(0, maxPaths),
    omittedPaths: Math.max(0, paths.length - maxPaths),
    note: TYPICAL_YEARS_NOTE,
  };
}
