import { z } from 'zod';
import { accepted } from '../shared/http/http-response';
import { exportViewSchema } from '../shared/http/admin-responses';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { exportCreateSchema } from '../shared/services/admin/admin-schemas';

/**
 * Starts an export of every user (and, with `includeEvents`, their events within retention) as
 * gzip NDJSON in the files store (admin); poll GET /api/admin/exports/{id} for the download link.
 */
export const adminExportsCreate = route('admin-exports-create', {
  methods: ['POST'],
  route: adminRoute('exports'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  body: exportCreateSchema,
  bodyOptional: true,
  summary: 'Start an export of the users as gzip NDJSON (admin)',
  tags: ['admin'],
  responses: { 202: exportViewSchema.extend({ duplicate: z.boolean() }) },
  handler: async ({ body, services, principal }) => {
    const { job, duplicate } = await services.admin.transfers.createExport(body, principal);
    return accepted(
      { ...services.admin.transfers.exportView(job), duplicate },
      { location: `/api/admin/exports/${job.id}` },
    );
  },
});
