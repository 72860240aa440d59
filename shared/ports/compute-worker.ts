import type { BetaParams, RoleFitAssessment, RoleFitInput } from '../domain/analysis/bayesian';
import type { GeographicOutcome, GeographicQuery } from '../domain/analysis/geo';
import type { HeuristicAnalysis } from '../domain/analysis/heuristic';
import type { RoleInfo } from '../domain/analysis/role-catalog';
import type { ComprehensiveRequest } from '../domain/analysis/schemas';
import type {
  AnalyzeContext,
  CareerPathways,
  JobTitleAnalysis,
  MarketIntelligence,
  TitleRelationships,
  WordCloud,
  WordCloudOptions,
} from '../domain/job-titles';
import type { TaxonomyAbout } from './taxonomy-worker';

/**
 * The taxonomy a task computes over. Each worker thread keeps the index of the last one it was
 * given: `key` names it (the built-in dataset, which a thread reads itself, or an imported
 * generation), `json` is asked for only when a thread does not hold that key yet.
 */
export interface TaxonomyRef {
  key: string;
  json: () => string;
}

/** The built-in taxonomy's key: a worker thread reads the shipped file instead of being sent it. */
export const BUILT_IN_TAXONOMY_KEY = 'built-in';

/** A batch title normalisation's answer per title (the input order). */
export interface TitleResolution {
  titleId: string | null;
  normalizedTitle: string;
}

/**
 * The CPU-heavy pure computations of the request paths, off the event loop (issue 9 item 2: with
 * the largest valid request in flight, the host keeps answering health checks within 100 ms).
 * Every method calls domain functions only; the answers are plain data.
 */
export interface ComputeWorker {
  /** generateWordCloud and its SVG (renderWordCloudSvg) over the taxonomy. */
  wordCloud(
    taxonomy: TaxonomyRef,
    titles: readonly string[],
    options: WordCloudOptions,
  ): Promise<WordCloud & { svg: string }>;
  /** normalizeTitle of each title (the answers in the input order). */
  normalizeTitles(taxonomy: TaxonomyRef, titles: readonly string[]): Promise<TitleResolution[]>;
  /** analyzeJobTitle. */
  analyzeTitle(taxonomy: TaxonomyRef, title: string, context: AnalyzeContext): Promise<JobTitleAnalysis>;
  /** getCareerPathways. */
  pathways(
    taxonomy: TaxonomyRef,
    title: string,
    options: { maxSteps?: number; maxPaths?: number },
  ): Promise<CareerPathways>;
  /** getTitleRelationships. */
  relationships(
    taxonomy: TaxonomyRef,
    title: string,
    options: { limit?: number },
  ): Promise<TitleRelationships>;
  /** getMarketIntelligence. */
  market(
    taxonomy: TaxonomyRef,
    title: string,
    series: readonly { period: string; count: number }[],
    options: { horizon?: number },
  ): Promise<MarketIntelligence>;
  /** The taxonomy's name, version and size. */
  describeTaxonomy(taxonomy: TaxonomyRef): Promise<TaxonomyAbout>;
  /** Each title's skills (career skill vocabularies are built from them without an index here). */
  titleSkills(taxonomy: TaxonomyRef): Promise<string[][]>;
  /** describeRole: what the taxonomy knows about a role. */
  describeRole(taxonomy: TaxonomyRef, role: string): Promise<RoleInfo>;
  /** heuristicComprehensive. */
  heuristic(
    request: ComprehensiveRequest,
    role: RoleInfo,
    priors: Readonly<Record<string, BetaParams>>,
  ): Promise<HeuristicAnalysis>;
  /** geographicOutcome over the bundled gazetteer, which each worker thread loads itself. */
  geographic(query: GeographicQuery): Promise<GeographicOutcome | null>;
  /** assessRoleFit. */
  roleFit(input: RoleFitInput, priors: Readonly<Record<string, BetaParams>>): Promise<RoleFitAssessment>;
  close(): Promise<void>;
}
