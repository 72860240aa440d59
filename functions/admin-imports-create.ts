import { z } from 'zod';
import { accepted } from '../shared/http/http-response';
import { importViewSchema } from '../shared/http/admin-responses';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { importCreateSchema } from '../shared/services/admin/admin-schemas';

/**
 * Starts an import (admin) from a file in the files store (`path`: an export, or NDJSON uploaded
 * with PUT /api/files/{path}, gzip or not) or an export (`exportId`). Each line is checked and
 * applied as an admin sync; GET /api/admin/imports/{id} reports accepted and rejected lines.
 */
export const adminImportsCreate = route('admin-imports-create', {
  methods: ['POST'],
  route: adminRoute('imports'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  body: importCreateSchema,
  summary: 'Start an import of users from an NDJSON file or an export (admin)',
  tags: ['admin'],
  responses: { 202: importViewSchema.extend({ duplicate: z.boolean() }) },
  handler: async ({ body, services, principal }) => {
    const { job, duplicate } = await services.admin.transfers.createImport(body, principal);
    return accepted(
      { ...services.admin.transfers.importView(job), duplicate },
      { location: `/api/admin/imports/${job.id}` },
    );
  },
});
