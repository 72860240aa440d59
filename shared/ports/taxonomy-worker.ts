import type { TaxonomyImportFormat, TaxonomyImportResult } from '../domain/job-titles';

/** An import's report without the taxonomy; `taxonomyJson` carries the taxonomy when every row is valid. */
export interface ParsedTaxonomyImport {
  report: Omit<TaxonomyImportResult, 'taxonomy'>;
  taxonomyJson?: string;
  /** With taxonomyJson: what the taxonomy is (so the event loop never parses it). */
  about?: TaxonomyAbout;
}

/** A taxonomy's name, version and size. */
export interface TaxonomyAbout {
  name: string;
  version: string;
  stats: { families: number; titles: number; edges: number };
}

/**
 * Parsing and validating a taxonomy (CSV or JSON, up to MAX_IMPORT_BYTES) costs seconds of CPU, so
 * it runs off the event loop. What comes back is a taxonomy that passed every check, as JSON text,
 * handed to the compute worker (ports/compute-worker.ts), which indexes and uses it.
 */
export interface TaxonomyWorker {
  /** parseTaxonomyImport: the report per row and, when all rows are valid, the taxonomy. */
  parseImport(text: string, format: TaxonomyImportFormat): Promise<ParsedTaxonomyImport>;
  /** loadTaxonomy's checks on a stored taxonomy: the taxonomy again, or what is wrong with it. */
  check(json: string): Promise<{ ok: true; taxonomyJson: string } | { ok: false; message: string }>;
  close(): Promise<void>;
}
