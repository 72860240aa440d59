import { z } from 'zod';
import { accepted } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { batchCreateSchema } from '../shared/services/command-schemas';
import { batchViewSchema } from '../shared/http/admin-responses';

/**
 * Starts a batch (admin): each operation is a body POST /api/operations accepts, run through the
 * command queue with bounded concurrency. Idempotent by `clientId` (same request → same batch,
 * `duplicate: true`; another request with that client id → 409).
 */
export const adminBatchesCreate = route('admin-batches-create', {
  methods: ['POST'],
  route: adminRoute('batches'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  body: batchCreateSchema,
  summary: 'Start a batch of operations run through the command queue (admin)',
  tags: ['admin'],
  responses: { 202: batchViewSchema.extend({ duplicate: z.boolean() }) },
  handler: async ({ body, services, principal }) => {
    const { batch, duplicate } = await services.admin.batches.create(body, principal);
    return accepted({ ...batch, duplicate }, { location: `/api/admin/batches/${batch.id}` });
  },
});
