import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { jobIdSchema } from '../shared/services/admin/admin-schemas';
import { batchViewSchema } from '../shared/http/admin-responses';

/**
 * Cancels a batch (admin): nothing more is dispatched, queued items that have not started are
 * recorded as cancelled, items already running finish. 409 when the batch has already finished.
 */
export const adminBatchesCancel = route('admin-batches-cancel', {
  methods: ['POST'],
  route: adminRoute('batches/{id}/cancel'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({ id: jobIdSchema('bat') }),
  summary: 'Cancel a batch: no further items run (admin)',
  tags: ['admin'],
  responses: { 200: batchViewSchema },
  handler: async ({ params, services }) => ok(await services.admin.batches.cancel(params.id)),
});
