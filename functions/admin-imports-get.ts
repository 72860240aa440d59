import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { importViewSchema } from '../shared/http/admin-responses';
import { adminParams, adminRoute, intQuery } from '../shared/http/params';
import { route } from '../shared/http/route';
import { jobIdSchema } from '../shared/services/admin/admin-schemas';
import { ServiceError } from '../shared/services/errors';

/** An import's report: counts, and a page of rejected lines with their reasons (`after` pages on). */
export const adminImportsGet = route('admin-imports-get', {
  methods: ['GET'],
  route: adminRoute('imports/{id}'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({ id: jobIdSchema('imp') }),
  query: z.object({ after: intQuery(0, 2_000_000_000).optional(), limit: intQuery(1, 1000).optional() }),
  summary: "An import's report: accepted and rejected lines with reasons (admin)",
  tags: ['admin'],
  responses: {
    200: importViewSchema.extend({
      rejections: z.array(z.object({ line: z.number(), reason: z.string() })),
      nextRejection: z.number().nullable(),
    }),
  },
  handler: async ({ params, query, services }) => {
    const found = await services.admin.transfers.getImport(params.id, {
      ...(query.after !== undefined ? { after: query.after } : {}),
      limit: query.limit ?? 100,
    });
    if (!found) throw new ServiceError('not-found', `No import ${params.id}.`);
    return ok(
      {
        ...services.admin.transfers.importView(found.job),
        rejections: found.rejections,
        nextRejection: found.nextRejection,
      },
      { 'cache-control': 'no-store' },
    );
  },
});
