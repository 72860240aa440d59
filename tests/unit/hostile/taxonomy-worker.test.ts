import { readFileSync } from 'node:fs';
import { PiscinaTaxonomyWorker } from '../../../shared/adapters/workers/piscina-taxonomy-worker';
import { builtInTaxonomyPath } from '../../../shared/adapters/reference/taxonomy-file';
import { taxonomyToCsv, type Taxonomy } from '../../../shared/domain/job-titles';

describe('taxonomy work off the event loop (issue 9 item 2)', () => {
  const worker = new PiscinaTaxonomyWorker();
  afterAll(() => worker.close());
  const json = readFileSync(builtInTaxonomyPath(), 'utf8');

  it('parses and validates an import on a worker thread', async () => {
    const csv = taxonomyToCsv(JSON.parse(json) as Taxonomy);
    const parsed = await worker.parseImport(csv, 'csv');
    expect(parsed.report.summary.failed).toBe(0);
    expect((JSON.parse(parsed.taxonomyJson as string) as Taxonomy).titles.length).toBeGreaterThan(600);
  });

  it('reports an invalid import without a taxonomy', async () => {
    const parsed = await worker.parseImport('id,name\nx,y\n', 'csv');
    expect(parsed.taxonomyJson).toBeUndefined();
    expect(parsed.report.summary.failed).toBeGreaterThan(0);
  });

  it('checks a stored taxonomy', async () => {
    expect(await worker.check(json)).toMatchObject({ ok: true });
    expect(await worker.check('{"titles":[]}')).toMatchObject({ ok: false });
  });
});
