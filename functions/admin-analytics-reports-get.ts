import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { jobIdSchema } from '../shared/services/admin/admin-schemas';
import { ServiceError } from '../shared/services/errors';

/** A saved report (admin): its query, run again now (relative ranges move with time). */
export const adminAnalyticsReportsGet = route('admin-analytics-reports-get', {
  methods: ['GET'],
  route: adminRoute('analytics/reports/{id}'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({ id: jobIdSchema('rep') }),
  summary: 'A saved analytics report, answered from the current aggregates (admin)',
  tags: ['admin', 'analytics'],
  handler: async ({ params, services }) => {
    const found = await services.admin.analytics.report(params.id);
    if (!found) throw new ServiceError('not-found', `No report ${params.id}.`);
    return ok(found, { 'cache-control': 'no-store' });
  },
});
