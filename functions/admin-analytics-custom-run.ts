import { ok } from '../shared/http/http-response';
import { customAnswerSchema } from '../shared/http/admin-responses';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { analyticsCustomSchema } from '../shared/services/admin/admin-schemas';

/**
 * A constrained analytics query (admin): metric × group-by × time range × bucket, answered from
 * the aggregates; `saveAs` also saves it as a report (GET /api/admin/analytics/reports/{id}).
 */
export const adminAnalyticsCustomRun = route('admin-analytics-custom-run', {
  methods: ['POST'],
  route: adminRoute('analytics/custom'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  body: analyticsCustomSchema,
  summary: 'Run (and optionally save) a metric × group-by × range × bucket query (admin)',
  tags: ['admin', 'analytics'],
  responses: { 200: customAnswerSchema },
  handler: async ({ body, services, principal }) =>
    ok(await services.admin.analytics.custom(body, principal), { 'cache-control': 'no-store' }),
});
