import { MAX_IMPORT_BYTES, type TaxonomyImportFormat } from '../shared/domain/job-titles';
import { ok, problem } from '../shared/http/http-response';
import { ProblemError } from '../shared/http/problem-error';
import { rawBody, route } from '../shared/http/route';

function formatOf(contentType: string | null): TaxonomyImportFormat {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(type)) return 'json';
  if (type === 'text/csv') return 'csv';
  throw new ProblemError({
    status: 415,
    type: 'unsupported-media-type',
    title: 'Unsupported media type',
    detail: `Send the taxonomy as application/json (the taxonomy.json format) or text/csv; got ${contentType ?? 'none'}.`,
  });
}

/**
 * Imports a job-title taxonomy (admin): JSON or CSV by content type, validated and reported row by
 * row. All or nothing: when every row is valid it is stored and used for every lookup from then on
 * (200, `applied: true`); otherwise 400 with the report and nothing changes. Bodies up to 4 MiB
 * (MAX_IMPORT_BYTES); parsing runs on a worker thread.
 */
export const jobTitlesTaxonomyImport = route('job-titles-taxonomy-import', {
  methods: ['POST'],
  route: 'job-titles/taxonomy',
  access: { roles: ['admin'], scope: 'catalog' },
  body: rawBody(
    ['application/json', 'text/csv'],
    `A taxonomy in the taxonomy.json format or as CSV, up to ${MAX_IMPORT_BYTES} bytes.`,
    { maxBytes: MAX_IMPORT_BYTES },
  ),
  summary: 'Import a job-title taxonomy (JSON or CSV), all or nothing, with a report per row',
  tags: ['job-titles'],
  handler: async ({ request, services, principal }) => {
    const format = formatOf(request.headers.get('content-type'));
    const tooLarge = new ProblemError({
      status: 413,
      type: 'payload-too-large',
      title: 'Payload too large',
      detail: `A taxonomy import may be at most ${MAX_IMPORT_BYTES} bytes.`,
    });
    if (Number(request.headers.get('content-length') ?? '0') > MAX_IMPORT_BYTES) throw tooLarge;
    const text = await request.text();
    if (Buffer.byteLength(text, 'utf8') > MAX_IMPORT_BYTES) throw tooLarge;
    const report = await services.jobTitles.importTaxonomy(text, format, principal);
    if (!report.applied) {
      return problem({
        status: 400,
        type: 'validation',
        title: 'Validation failed',
        detail: `${report.summary.failed} of ${report.summary.rows} rows are not valid; the taxonomy in use did not change.`,
        errors: report.rows.flatMap((r) =>
          r.errors.map((message) => ({ path: `${r.section}/${r.row}${r.id ? ` (${r.id})` : ''}`, message })),
        ),
        ...report,
      });
    }
    return ok(report);
  },
});
