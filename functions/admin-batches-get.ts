import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute, intQuery } from '../shared/http/params';
import { route } from '../shared/http/route';
import { jobIdSchema } from '../shared/services/admin/admin-schemas';
import { ServiceError } from '../shared/services/errors';

/** A batch's progress, timing and a page of its items (results and errors); `itemsAfter` pages on. */
export const adminBatchesGet = route('admin-batches-get', {
  methods: ['GET'],
  route: adminRoute('batches/{id}'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({ id: jobIdSchema('bat') }),
  query: z.object({
    itemsAfter: intQuery(0, 10_000).optional(),
    itemsLimit: intQuery(1, 500).optional(),
  }),
  summary: "A batch's progress, timing and per-item results (admin)",
  tags: ['admin'],
  handler: async ({ params, query, services }) => {
    const batch = await services.admin.batches.get(params.id, {
      ...(query.itemsAfter !== undefined ? { after: query.itemsAfter } : {}),
      limit: query.itemsLimit ?? 100,
    });
    if (!batch) throw new ServiceError('not-found', `No batch ${params.id}.`);
    return ok(batch, { 'cache-control': 'no-store' });
  },
});
