import { loadTaxonomy, parseTaxonomyImport, type TaxonomyImportFormat } from '../../domain/job-titles';
import type { ParsedTaxonomyImport, TaxonomyAbout } from '../../ports/taxonomy-worker';

/**
 * The taxonomy work a worker thread does (see piscina-taxonomy-worker.ts); plain functions over
 * plain data, so they also run in-process in tests. The taxonomy travels back as JSON text: one
 * string copy instead of a structured clone of a large object graph on the event loop.
 */
export function parseImportTask({
  text,
  format,
}: {
  text: string;
  format: TaxonomyImportFormat;
}): ParsedTaxonomyImport {
  const { taxonomy, ...report } = parseTaxonomyImport(text, format);
  if (!taxonomy) return { report };
  let stats: TaxonomyAbout['stats'];
  try {
    stats = { ...loadTaxonomy(taxonomy).stats }; // every cross-record rule
  } catch (error) {
    return {
      report: {
        ...report,
        rows: [
          ...report.rows,
          { row: 0, section: 'document', ok: false, errors: [(error as Error).message] },
        ],
        summary: { ...report.summary, failed: report.summary.failed + 1 },
      },
    };
  }
  return {
    report,
    taxonomyJson: JSON.stringify(taxonomy),
    about: { name: taxonomy.name, version: taxonomy.version, stats },
  };
}

export function checkTask({
  json,
}: {
  json: string;
}): { ok: true; taxonomyJson: string } | { ok: false; message: string } {
  try {
    const index = loadTaxonomy(JSON.parse(json) as unknown);
    return { ok: true, taxonomyJson: JSON.stringify(index.taxonomy) };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}
