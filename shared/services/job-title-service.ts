import { randomBytes } from 'node:crypto';
import { runCooperatively } from './cooperative';
import {
  analyzeJobTitle,
  wordCloudSteps,
  getCareerPathways,
  getMarketIntelligence,
  getTitleRelationships,
  indexTaxonomySteps,
  normalizeTitle,
  type AnalyzeContext,
  type CareerPathways,
  type JobTitleAnalysis,
  type MarketIntelligence,
  type TaxonomyImportFormat,
  type TaxonomyImportResult,
  type Taxonomy,
  type TaxonomyIndex,
  type TitleRelationships,
  type WordCloud,
  type WordCloudMode,
} from '../domain/job-titles';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import type { BuiltInTaxonomySource } from '../ports/reference-data';
import type { TaxonomyWorker } from '../ports/taxonomy-worker';
import { actorIdOf, type Principal } from './principal';
import { ServiceError } from './errors';

/**
 * The job-title operations over the taxonomy in use: the built-in dataset until an admin imports
 * one (POST /api/job-titles/taxonomy), then the imported one, on every instance.
 *
 * An imported taxonomy is stored in chunks (`taxonomy` partition: `chunk:<generation>:<n>`, each
 * under 1 MB, so a large taxonomy fits Cosmos DB's 2 MB item limit) and then made current by
 * replacing the pointer document `current`, so readers never see half an import. Each instance
 * re-reads the pointer at most every TAXONOMY_REFRESH_MS and rebuilds its index when it changed.
 */

const TAXONOMY_PK = 'taxonomy';
const POINTER_ID = 'current';
const POINTER_TYPE = 'job-taxonomy';
const CHUNK_TYPE = 'job-taxonomy-chunk';
const CHUNK_CHARS = 900_000;
const TAXONOMY_REFRESH_MS = 30_000;

interface TaxonomyPointer {
  generation: string;
  chunks: number;
  name: string;
  version: string;
  importedAt: string;
  importedBy: string;
  stats: { families: number; titles: number; edges: number };
}

export interface TaxonomyInfo {
  source: 'built-in' | 'imported';
  name: string;
  version: string;
  importedAt?: string;
  stats: { families: number; titles: number; edges: number };
}

export interface TaxonomyImportReport extends Omit<TaxonomyImportResult, 'taxonomy'> {
  /** True when the taxonomy was stored and is now used for every lookup. */
  applied: boolean;
  current: TaxonomyInfo;
}

/** What JobTitleService is built from (the composition root passes these). */
export interface JobTitleServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  /** Parses and checks taxonomies off the event loop. */
  taxonomyWorker: TaxonomyWorker;
  /** The taxonomy used until an admin imports one. */
  builtInTaxonomy: BuiltInTaxonomySource;
}

export class JobTitleService {
  private cached:
    { index: TaxonomyIndex; info: TaxonomyInfo; etag: string | null; checkedAt: number } | undefined;

  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly worker: TaxonomyWorker;
  private readonly builtInTaxonomy: BuiltInTaxonomySource;
  /** A generation being loaded: concurrent requests wait for the one load. */
  private loading: { etag: string; index: Promise<TaxonomyIndex> } | undefined;

  constructor(deps: JobTitleServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.worker = deps.taxonomyWorker;
    this.builtInTaxonomy = deps.builtInTaxonomy;
  }

  /** The taxonomy in use (re-checked against the store at most every TAXONOMY_REFRESH_MS). */
  async index(): Promise<{ index: TaxonomyIndex; info: TaxonomyInfo }> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.checkedAt < TAXONOMY_REFRESH_MS) return this.cached;
    const pointer = await this.store.read<TaxonomyPointer>(TAXONOMY_PK, POINTER_ID);
    if (!pointer) {
      const index = this.builtInTaxonomy();
      this.cached = { index, info: builtInInfo(index), etag: null, checkedAt: now };
    } else if (!this.cached || this.cached.etag !== pointer.etag) {
      if (this.loading?.etag !== pointer.etag) {
        const loading = { etag: pointer.etag, index: this.loadGeneration(pointer.body) };
        this.loading = loading;
        void loading.index
          .catch(() => undefined)
          .finally(() => {
            if (this.loading === loading) this.loading = undefined;
          });
      }
      const index = await this.loading.index;
      this.cached = { index, info: importedInfo(pointer.body), etag: pointer.etag, checkedAt: now };
    } else {
      this.cached.checkedAt = now;
    }
    return this.cached;
  }

  async wordCloud(
    titles: readonly string[],
    options: { mode?: WordCloudMode; maxTerms?: number; includeSeniority?: boolean },
  ): Promise<WordCloud> {
    const { index } = await this.index();
    // Seconds of normalising for the largest request: in slices, so it never holds the event loop.
    return runCooperatively(wordCloudSteps(index, titles, options));
  }

  async analyze(title: string, context: AnalyzeContext): Promise<JobTitleAnalysis> {
    return analyzeJobTitle((await this.index()).index, title, context);
  }

  async pathways(
    title: string,
    options: { maxSteps?: number; maxPaths?: number } = {},
  ): Promise<CareerPathways> {
    return getCareerPathways((await this.index()).index, title, options);
  }

  async relationships(title: string, options: { limit?: number } = {}): Promise<TitleRelationships> {
    return getTitleRelationships((await this.index()).index, title, options);
  }

  async market(
    title: string,
    series: readonly { period: string; count: number }[],
    options: { horizon?: number } = {},
  ): Promise<MarketIntelligence> {
    return getMarketIntelligence((await this.index()).index, title, series, options);
  }

  /** The taxonomy id a free-text title normalises to, or null when it is not known. */
  async titleIdOf(title: string): Promise<{ titleId: string | null; normalizedTitle: string }> {
    const match = normalizeTitle((await this.index()).index, title);
    return { titleId: match.known ? match.titleId : null, normalizedTitle: match.normalizedTitle };
  }

  /**
   * Validates an import row by row; when every row is valid, stores it and makes it current.
   * Invalid imports change nothing.
   */
  async importTaxonomy(
    text: string,
    format: TaxonomyImportFormat,
    principal: Principal,
  ): Promise<TaxonomyImportReport> {
    // Parsing and checking take seconds of CPU for a large import: a worker thread does them.
    const { report, taxonomyJson } = await this.worker.parseImport(text, format);
    if (taxonomyJson === undefined) return { ...report, applied: false, current: (await this.index()).info };
    const taxonomy = JSON.parse(taxonomyJson) as Taxonomy;
    const index = await runCooperatively(indexTaxonomySteps(taxonomy));
    const now = this.clock.now();
    const generation = `${now.toString(36)}${randomBytes(4).toString('hex')}`;
    const serialized = taxonomyJson;
    const chunks: string[] = [];
    for (let i = 0; i < serialized.length; i += CHUNK_CHARS)
      chunks.push(serialized.slice(i, i + CHUNK_CHARS));
    for (const [i, data] of chunks.entries()) {
      await this.store.upsert(TAXONOMY_PK, {
        id: `chunk:${generation}:${i}`,
        type: CHUNK_TYPE,
        body: { generation, index: i, data },
      });
    }
    const pointerBody: TaxonomyPointer = {
      generation,
      chunks: chunks.length,
      name: taxonomy.name,
      version: taxonomy.version,
      importedAt: new Date(now).toISOString(),
      importedBy: actorIdOf(principal),
      stats: { ...index.stats },
    };
    const previous = await this.store.read<TaxonomyPointer>(TAXONOMY_PK, POINTER_ID);
    const written = await this.store.upsert(TAXONOMY_PK, {
      id: POINTER_ID,
      type: POINTER_TYPE,
      body: pointerBody,
    });
    this.cached = { index, info: importedInfo(pointerBody), etag: written.etag, checkedAt: now };
    if (previous) await this.dropGeneration(previous.body).catch(() => undefined);
    return { ...report, applied: true, current: this.cached.info };
  }

  private async loadGeneration(pointer: TaxonomyPointer): Promise<TaxonomyIndex> {
    const parts: string[] = [];
    for (let i = 0; i < pointer.chunks; i++) {
      const chunk = await this.store.read<{ data: string }>(TAXONOMY_PK, `chunk:${pointer.generation}:${i}`);
      if (!chunk)
        throw new ServiceError(
          'unavailable',
          `Part ${i} of the imported taxonomy is missing; import it again.`,
        );
      parts.push(chunk.body.data);
    }
    // The stored taxonomy is checked again off the event loop, then indexed in slices.
    const checked = await this.worker.check(parts.join(''));
    if (!checked.ok)
      throw new ServiceError(
        'unavailable',
        `The imported taxonomy is not valid (${checked.message}); import it again.`,
      );
    return runCooperatively(indexTaxonomySteps(JSON.parse(checked.taxonomyJson) as Taxonomy));
  }

  private async dropGeneration(pointer: TaxonomyPointer): Promise<void> {
    for (let i = 0; i < pointer.chunks; i++) {
      await this.store.delete(TAXONOMY_PK, `chunk:${pointer.generation}:${i}`).catch(() => undefined);
    }
  }
}

function builtInInfo(index: TaxonomyIndex): TaxonomyInfo {
  return {
    source: 'built-in',
    name: index.taxonomy.name,
    version: index.taxonomy.version,
    stats: { ...index.stats },
  };
}

function importedInfo(p: TaxonomyPointer): TaxonomyInfo {
  return {
    source: 'imported',
    name: p.name,
    version: p.version,
    importedAt: p.importedAt,
    stats: { ...p.stats },
  };
}
