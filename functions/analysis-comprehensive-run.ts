import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { comprehensiveBodySchema } from '../shared/services/analysis-schemas';

/**
 * portal_comprehensive_analysis: a candidate profile → score, strengths, gaps, recommendations, matched
 * and missing skills, from the AI provider holding the lock (or the heuristic, degraded); emits
 * analysis_complete.
 */
export const analysisComprehensiveRun = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services, principal }) => {
    const body = await readJsonBody(request, comprehensiveBodySchema, services.config.http.maxBodyBytes);
    return ok(await services.analysis.comprehensive(body, principal), { 'cache-control': 'no-store' });
  },
);

app.http('analysis-comprehensive-run', {
  methods: ['POST'],
  route: 'analysis/comprehensive',
  authLevel: 'anonymous',
  handler: analysisComprehensiveRun,
});
