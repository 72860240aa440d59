import { z } from 'zod';
import {
  TITLE_BATCH_MAX_TITLES,
  TITLE_BATCH_MAX_TOTAL_CHARS,
  distinctTitleChars,
} from '../shared/domain/job-titles';
import { ok, problem } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { MAX_POSTINGS_PER_IMPORT } from '../shared/services/market-postings-service';

const bodySchema = z.strictObject({
  postings: z
    .array(
      z.strictObject({
        title: z.string().trim().min(1).max(200),
        period: z.string().min(1).max(10),
        count: z.number().int().min(0).max(1_000_000_000),
      }),
    )
    .min(1)
    .max(MAX_POSTINGS_PER_IMPORT)
    // Rows repeat titles across periods; each distinct title is normalised once, and that is the cost.
    .refine(
      (rows) => new Set(rows.map((r) => r.title)).size <= TITLE_BATCH_MAX_TITLES,
      `may name at most ${TITLE_BATCH_MAX_TITLES} distinct titles`,
    )
    .refine(
      (rows) => distinctTitleChars(rows.map((r) => r.title)) <= TITLE_BATCH_MAX_TOTAL_CHARS,
      `distinct titles may total at most ${TITLE_BATCH_MAX_TOTAL_CHARS} characters`,
    ),
});

/**
 * Imports job-posting counts (admin, service): `{postings: [{title, period: "YYYY-MM" | "YYYY-Www", count}]}`,
 * stored per normalised taxonomy title. All or nothing: 200 with a report per row when stored, 400
 * with the same report (and nothing stored) when a row is invalid.
 */
export const marketPostingsImport = route('market-postings-import', {
  methods: ['POST'],
  route: 'market/postings',
  access: { roles: ['admin', 'service'], scope: 'catalog' },
  body: bodySchema,
  summary: 'Import job-posting counts per title and period, all or nothing, with a report per row',
  tags: ['market'],
  handler: async ({ body, services, principal }) => {
    const report = await services.marketPostings.import(body.postings, principal);
    if (!report.applied) {
      return problem({
        status: 400,
        type: 'validation',
        title: 'Validation failed',
        detail: `${report.summary.failed} of ${report.summary.rows} postings are not valid; nothing was stored.`,
        errors: report.rows.flatMap((r) =>
          r.errors.map((message) => ({ path: `/postings/${r.row - 1}`, message })),
        ),
        ...report,
      });
    }
    return ok(report);
  },
});
