import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { comprehensiveBodySchema } from '../shared/services/analysis-schemas';

/**
 * portal_comprehensive_analysis: a candidate profile → score, strengths, gaps, recommendations, matched
 * and missing skills, from the AI provider holding the lock (or the heuristic, degraded); emits
 * analysis_complete.
 */
export const analysisComprehensiveRun = route('analysis-comprehensive-run', {
  methods: ['POST'],
  route: 'analysis/comprehensive',
  access: { roles: ['admin', 'user', 'service'] },
  body: comprehensiveBodySchema,
  summary: 'portal_comprehensive_analysis: score a candidate profile (AI provider or heuristic)',
  tags: ['analysis'],
  handler: async ({ body, services, principal }) =>
    ok(await services.analysis.comprehensive(body, principal), { 'cache-control': 'no-store' }),
});
