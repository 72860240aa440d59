import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';

/**
 * The admin dashboard (admin): users total, created, deleted and active over the last day, week and
 * month; applied syncs and conflicts by writer; events by type; token usage by operation; analyses
 * by provider and the degraded share; the top normalised job titles — read from the aggregates the
 * analytics change-feed consumer maintains (`freshness` says how current they are).
 */
export const adminAnalyticsDashboardGet = route('admin-analytics-dashboard-get', {
  methods: ['GET'],
  route: adminRoute('analytics/dashboard'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  summary: 'Dashboard figures from the change-feed aggregates (admin)',
  tags: ['admin', 'analytics'],
  handler: async ({ services }) =>
    ok(await services.admin.analytics.dashboard(), { 'cache-control': 'no-store' }),
});
