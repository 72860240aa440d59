import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import type { BetaParams, RoleFitAssessment, RoleFitInput } from '../../domain/analysis/bayesian';
import type { GeographicOutcome, GeographicQuery } from '../../domain/analysis/geo';
import type { HeuristicAnalysis } from '../../domain/analysis/heuristic';
import type { RoleInfo } from '../../domain/analysis/role-catalog';
import type { ComprehensiveRequest } from '../../domain/analysis/schemas';
import type {
  AnalyzeContext,
  CareerPathways,
  JobTitleAnalysis,
  MarketIntelligence,
  TitleRelationships,
  WordCloud,
  WordCloudOptions,
} from '../../domain/job-titles';
import type { TaxonomyAbout } from '../../ports/taxonomy-worker';
import type { ComputeWorker, TaxonomyRef, TitleResolution } from '../../ports/compute-worker';
import type { TaxonomyTaskResult } from './compute-tasks';

/**
 * ComputeWorker on a piscina pool of worker threads. Why threads rather than slices on the event
 * loop: these computations are seconds of CPU at their bounds (word clouds, batch normalisation)
 * or one indivisible library call (the gazetteer load, ~1 s), and slices of them still cost the
 * event loop that CPU; a thread costs it one structured clone of the input and the answer.
 *
 * Up to two threads (one on a one-core machine) so that a long task does not queue a short one
 * behind it; each thread holds its own gazetteer and taxonomy index, loaded on first use and kept
 * while it lives (a thread exits after COMPUTE_IDLE_MS without work). The worker module is
 * compute-tasks.js next to this file; under ts-jest a test helper loads the .ts file.
 */
const COMPUTE_IDLE_MS = 10 * 60_000;

export class PiscinaComputeWorker implements ComputeWorker {
  private readonly pool: Piscina;

  constructor() {
    const compiled = path.extname(__filename) === '.js';
    this.pool = new Piscina({
      ...(compiled
        ? { filename: path.join(__dirname, 'compute-tasks.js') }
        : {
            filename: path.resolve(__dirname, '../../../tests/helpers/ts-worker.js'),
            workerData: { tsEntry: path.join(__dirname, 'compute-tasks.ts') },
          }),
      minThreads: 0,
      maxThreads: Math.max(1, Math.min(2, availableParallelism() - 1)),
      idleTimeout: COMPUTE_IDLE_MS,
    });
  }

  /** Runs a taxonomy task; when the thread does not hold the taxonomy, once more with its JSON. */
  private async withTaxonomy<T>(name: string, taxonomy: TaxonomyRef, task: object): Promise<T> {
    let result = (await this.pool.run(
      { ...task, taxonomy: { key: taxonomy.key } },
      { name },
    )) as TaxonomyTaskResult<T>;
    if (!result.ok)
      result = (await this.pool.run(
        { ...task, taxonomy: { key: taxonomy.key, json: taxonomy.json() } },
        { name },
      )) as TaxonomyTaskResult<T>;
    if (!result.ok) throw new Error(`the compute worker did not load taxonomy ${taxonomy.key}`);
    return result.value;
  }

  wordCloud(
    taxonomy: TaxonomyRef,
    titles: readonly string[],
    options: WordCloudOptions,
  ): Promise<WordCloud & { svg: string }> {
    return this.withTaxonomy('wordCloudTask', taxonomy, { titles, options });
  }

  normalizeTitles(taxonomy: TaxonomyRef, titles: readonly string[]): Promise<TitleResolution[]> {
    return this.withTaxonomy('normalizeTitlesTask', taxonomy, { titles });
  }

  analyzeTitle(taxonomy: TaxonomyRef, title: string, context: AnalyzeContext): Promise<JobTitleAnalysis> {
    return this.withTaxonomy('analyzeTitleTask', taxonomy, { title, context });
  }

  pathways(
    taxonomy: TaxonomyRef,
    title: string,
    options: { maxSteps?: number; maxPaths?: number },
  ): Promise<CareerPathways> {
    return this.withTaxonomy('pathwaysTask', taxonomy, { title, options });
  }

  relationships(
    taxonomy: TaxonomyRef,
    title: string,
    options: { limit?: number },
  ): Promise<TitleRelationships> {
    return this.withTaxonomy('relationshipsTask', taxonomy, { title, options });
  }

  market(
    taxonomy: TaxonomyRef,
    title: string,
    series: readonly { period: string; count: number }[],
    options: { horizon?: number },
  ): Promise<MarketIntelligence> {
    return this.withTaxonomy('marketTask', taxonomy, { title, series, options });
  }

  describeTaxonomy(taxonomy: TaxonomyRef): Promise<TaxonomyAbout> {
    return this.withTaxonomy('describeTaxonomyTask', taxonomy, {});
  }

  titleSkills(taxonomy: TaxonomyRef): Promise<string[][]> {
    return this.withTaxonomy('titleSkillsTask', taxonomy, {});
  }

  describeRole(taxonomy: TaxonomyRef, role: string): Promise<RoleInfo> {
    return this.withTaxonomy('describeRoleTask', taxonomy, { role });
  }

  heuristic(
    request: ComprehensiveRequest,
    role: RoleInfo,
    priors: Readonly<Record<string, BetaParams>>,
  ): Promise<HeuristicAnalysis> {
    return this.pool.run({ request, role, priors }, { name: 'heuristicTask' }) as Promise<HeuristicAnalysis>;
  }

  geographic(query: GeographicQuery): Promise<GeographicOutcome | null> {
    return this.pool.run({ query }, { name: 'geographicTask' }) as Promise<GeographicOutcome | null>;
  }

  roleFit(input: RoleFitInput, priors: Readonly<Record<string, BetaParams>>): Promise<RoleFitAssessment> {
    return this.pool.run({ input, priors }, { name: 'roleFitTask' }) as Promise<RoleFitAssessment>;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
