import * as path from 'node:path';
import { Piscina } from 'piscina';
import type { TaxonomyImportFormat } from '../../domain/job-titles';
import type { ParsedTaxonomyImport, TaxonomyWorker } from '../../ports/taxonomy-worker';

/**
 * TaxonomyWorker on a piscina pool of worker threads (one thread: imports are rare, admin-only and
 * serialised anyway; the thread exits when idle). The worker module is taxonomy-tasks.js next to
 * this file; when the sources run untranspiled (ts-jest) a test helper loads the .ts file through
 * the project's transpile-on-require hook.
 */
export class PiscinaTaxonomyWorker implements TaxonomyWorker {
  private readonly pool: Piscina;

  constructor() {
    const compiled = path.extname(__filename) === '.js';
    this.pool = new Piscina({
      ...(compiled
        ? { filename: path.join(__dirname, 'taxonomy-tasks.js') }
        : {
            filename: path.resolve(__dirname, '../../../tests/helpers/ts-worker.js'),
            workerData: { tsEntry: path.join(__dirname, 'taxonomy-tasks.ts') },
          }),
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
