import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { MAX_POSTINGS_PER_IMPORT, postingInputSchema } from '../shared/services/job-postings-service';

/**
 * Imports job postings as documents (title, text, location, seniority, remote mode, skills), up to
 * MAX_POSTINGS_PER_IMPORT per request; a posting with a known id is replaced. Each row is reported;
 * an invalid row never blocks the others.
 */
export const jobsPostingsImport = route('jobs-postings-import', {
  methods: ['POST'],
  route: 'jobs/postings',
  access: { roles: ['admin', 'service'], scope: 'jobs:postings' },
  body: z.strictObject({ postings: z.array(postingInputSchema).min(1).max(MAX_POSTINGS_PER_IMPORT) }),
  summary: 'Import job postings as documents (admin, service); each row reported',
  tags: ['jobs'],
  responses: {
    200: z.object({
      rows: z.array(
        z.object({
          row: z.number(),
          id: z.string(),
          ok: z.boolean(),
          created: z.boolean().optional(),
          errors: z.array(z.string()),
        }),
      ),
      summary: z.object({
        rows: z.number(),
        stored: z.number(),
        created: z.number(),
        updated: z.number(),
        failed: z.number(),
        total: z.number(),
      }),
    }),
  },
  handler: async ({ body, services, principal }) =>
    ok(await services.jobPostings.import(body.postings, principal)),
});
