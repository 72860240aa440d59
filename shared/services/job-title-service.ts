import { randomBytes } from 'node:crypto';
import {
  type AnalyzeContext,
  type CareerPathways,
  type JobTitleAnalysis,
  type MarketIntelligence,
  type TaxonomyImportFormat,
  type TaxonomyImportResult,
  type TitleRelationships,
  type WordCloud,
  type WordCloudMode,
} from '../domain/job-titles';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import type { RoleInfo } from '../domain/analysis/role-catalog';
import type { TaxonomyAbout, TaxonomyWorker } from '../ports/taxonomy-worker';
import {
  BUILT_IN_TAXONOMY_KEY,
  type ComputeWorker,
  type TaxonomyRef,
  type TitleResolution,
} from '../ports/compute-worker';
import { actorIdOf, type Principal } from './principal';
import { ServiceError } from './errors';

/**
 * The job-title operations over the taxonomy in use: the built-in dataset until an admin imports
 * one (POST /api/job-titles/taxonomy), then the imported one, on every instance.
 *
 * An imported taxonomy is stored in chunks (`taxonomy` partition: `chunk:<generation>:<n>`, each
 * 128 KB, well under Cosmos DB's 2 MB item limit) and then made current by
 * replacing the pointer document `current`, so readers never see half an import. Each instance
 * re-reads the pointer at most every TAXONOMY_REFRESH_MS and follows it when it changed.
 */

const TAXONOMY_PK = 'taxonomy';
const POINTER_ID = 'current';
const POINTER_TYPE = 'job-taxonomy';
const CHUNK_TYPE = 'job-taxonomy-chunk';
/**
 * Characters per stored chunk. Far under Cosmos DB's 2 MB item limit on purpose: the embedded store
 * writes synchronously, and a 128 KB write holds the event loop for a few ms where a 900 KB one
 * held it for ~70 ms on a busy machine (the largest import is ~33 chunks).
 */
const CHUNK_CHARS = 128_000;
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
  /** Normalises titles (word clouds, batches, analyses) off the event loop. */
  computeWorker: ComputeWorker;
}

export class JobTitleService {
  private cached:
    { info: TaxonomyInfo; ref: TaxonomyRef; etag: string | null; checkedAt: number } | undefined;

  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly worker: TaxonomyWorker;
  private readonly compute: ComputeWorker;
  /** A generation being loaded: concurrent requests wait for the one load. */
  private loading: { etag: string; json: Promise<string> } | undefined;

  constructor(deps: JobTitleServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.worker = deps.taxonomyWorker;
    this.compute = deps.computeWorker;
  }

  /**
   * The taxonomy in use (re-checked against the store at most every TAXONOMY_REFRESH_MS). The event
   * loop holds no index of it: every lookup runs on the compute worker, which indexes the taxonomy
   * `ref` names (the built-in one from the shipped file, an imported one from its JSON).
   */
  async current(): Promise<{ info: TaxonomyInfo; ref: TaxonomyRef }> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.checkedAt < TAXONOMY_REFRESH_MS) return this.cached;
    const pointer = await this.store.read<TaxonomyPointer>(TAXONOMY_PK, POINTER_ID);
    if (!pointer) {
      const info =
        this.cached?.etag === null
          ? this.cached.info
          : builtInInfo(await this.compute.describeTaxonomy(BUILT_IN_REF));
      this.cached = { info, ref: BUILT_IN_REF, etag: null, checkedAt: now };
    } else if (!this.cached || this.cached.etag !== pointer.etag) {
      if (this.loading?.etag !== pointer.etag) {
        const loading = { etag: pointer.etag, json: this.loadGeneration(pointer.body) };
        this.loading = loading;
        void loading.json
          .catch(() => undefined)
          .finally(() => {
            if (this.loading === loading) this.loading = undefined;
          });
      }
      const json = await this.loading.json;
      this.cached = {
        info: importedInfo(pointer.body),
        ref: importedRef(pointer.body, json),
        etag: pointer.etag,
        checkedAt: now,
      };
    } else {
      this.cached.checkedAt = now;
    }
    return this.cached;
  }

  /** The taxonomy in use as the compute worker names it. */
  async taxonomyRef(): Promise<TaxonomyRef> {
    return (await this.current()).ref;
  }

  /** The word cloud with its SVG rendering (seconds of CPU at the bounds: on the compute worker). */
  async wordCloud(
    titles: readonly string[],
    options: { mode?: WordCloudMode; maxTerms?: number; includeSeniority?: boolean },
  ): Promise<WordCloud & { svg: string }> {
    return this.compute.wordCloud(await this.taxonomyRef(), titles, options);
  }

  async analyze(title: string, context: AnalyzeContext): Promise<JobTitleAnalysis> {
    return this.compute.analyzeTitle(await this.taxonomyRef(), title, context);
  }

  async pathways(
    title: string,
    options: { maxSteps?: number; maxPaths?: number } = {},
  ): Promise<CareerPathways> {
    return this.compute.pathways(await this.taxonomyRef(), title, options);
  }

  async relationships(title: string, options: { limit?: number } = {}): Promise<TitleRelationships> {
    return this.compute.relationships(await this.taxonomyRef(), title, options);
  }

  async market(
    title: string,
    series: readonly { period: string; count: number }[],
    options: { horizon?: number } = {},
  ): Promise<MarketIntelligence> {
    return this.compute.market(await this.taxonomyRef(), title, series, options);
  }

  /** The taxonomy id each free-text title normalises to (null when it is not known), in order. */
  async titleIdsOf(titles: readonly string[]): Promise<TitleResolution[]> {
    if (titles.length === 0) return [];
    return this.compute.normalizeTitles(await this.taxonomyRef(), titles);
  }

  /** The taxonomy id a free-text title normalises to, or null when it is not known. */
  async titleIdOf(title: string): Promise<TitleResolution> {
    const [resolution] = await this.titleIdsOf([title]);
    if (!resolution) throw new Error('the compute worker answered no title');
    return resolution;
  }

  /** What the taxonomy in use knows about a role (the analyses' role lookup). */
  /** The taxonomy in use and each of its titles' skills (read on the compute worker). */
  async titleSkills(): Promise<{ ref: TaxonomyRef; skills: string[][] }> {
    const ref = await this.taxonomyRef();
    return { ref, skills: await this.compute.titleSkills(ref) };
  }

  async describeRole(role: string): Promise<RoleInfo> {
    return this.compute.describeRole(await this.taxonomyRef(), role);
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
    // Parsing, checking and indexing take seconds of CPU for a large import: worker threads do
    // them; the event loop only cuts the checked JSON into chunks and stores them.
    const { report, taxonomyJson, about } = await this.worker.parseImport(text, format);
    if (taxonomyJson === undefined || about === undefined)
      return { ...report, applied: false, current: (await this.current()).info };
    const now = this.clock.now();
    const generation = `${now.toString(36)}${randomBytes(4).toString('hex')}`;
    const chunks: string[] = [];
    for (let i = 0; i < taxonomyJson.length; i += CHUNK_CHARS)
      chunks.push(taxonomyJson.slice(i, i + CHUNK_CHARS));
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
      name: about.name,
      version: about.version,
      importedAt: new Date(now).toISOString(),
      importedBy: actorIdOf(principal),
      stats: { ...about.stats },
    };
    const previous = await this.store.read<TaxonomyPointer>(TAXONOMY_PK, POINTER_ID);
    const written = await this.store.upsert(TAXONOMY_PK, {
      id: POINTER_ID,
      type: POINTER_TYPE,
      body: pointerBody,
    });
    this.cached = {
      info: importedInfo(pointerBody),
      ref: importedRef(pointerBody, taxonomyJson),
      etag: written.etag,
      checkedAt: now,
    };
    if (previous) await this.dropGeneration(previous.body).catch(() => undefined);
    return { ...report, applied: true, current: this.cached.info };
  }

  private async loadGeneration(pointer: TaxonomyPointer): Promise<string> {
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
    // The stored taxonomy is checked again off the event loop; the compute worker indexes it.
    const checked = await this.worker.check(parts.join(''));
    if (!checked.ok)
      throw new ServiceError(
        'unavailable',
        `The imported taxonomy is not valid (${checked.message}); import it again.`,
      );
    return checked.taxonomyJson;
  }

  private async dropGeneration(pointer: TaxonomyPointer): Promise<void> {
    for (let i = 0; i < pointer.chunks; i++) {
      await this.store.delete(TAXONOMY_PK, `chunk:${pointer.generation}:${i}`).catch(() => undefined);
    }
  }
}

const BUILT_IN_REF: TaxonomyRef = {
  key: BUILT_IN_TAXONOMY_KEY,
  // Never asked: worker threads read the built-in taxonomy themselves.
  json: () => {
    throw new Error('the built-in taxonomy is read by the worker itself');
  },
};

/** An imported generation as the compute worker names it; its JSON goes to a thread once. */
function importedRef(pointer: TaxonomyPointer, json: string): TaxonomyRef {
  return { key: `imported:${pointer.generation}`, json: () => json };
}

function builtInInfo(about: TaxonomyAbout): TaxonomyInfo {
  return { source: 'built-in', name: about.name, version: about.version, stats: { ...about.stats } };
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
