import { Piscina } from 'piscina';
import type { TaxonomyImportFormat } from '../../domain/job-titles';
import type { ParsedTaxonomyImport, TaxonomyWorker } from '../../ports/taxonomy-worker';
import { workerModule } from './worker-module';

/**
 * TaxonomyWorker on a piscina pool of worker threads (one thread: imports are rare, admin-only and
 * serialised anyway; the thread exits when idle). The tasks are in taxonomy-tasks (see
 * workerModule).
 */
export class PiscinaTaxonomyWorker implements TaxonomyWorker {
  private readonly pool: Piscina;

  constructor() {
    this.pool = new Piscina({
      ...workerModule(__filename, 'taxonomy-tasks'),
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: 30_000,
    });
  }

  parseImport(text: string, format: TaxonomyImportFormat): Promise<ParsedTaxonomyImport> {
    return this.pool.run({ text, format }, { name: 'parseImportTask' }) as Promise<ParsedTaxonomyImport>;
  }

  check(json: string): Promise<{ ok: true; taxonomyJson: string } | { ok: false; message: string }> {
    return this.pool.run({ json }, { name: 'checkTask' }) as Promise<
      { ok: true; taxonomyJson: string } | { ok: false; message: string }
    >;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
