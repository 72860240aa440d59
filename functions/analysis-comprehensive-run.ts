import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { userIdFor } from '../shared/services/access-policy';
import { comprehensiveBodySchema } from '../shared/services/analysis-schemas';

/**
 * portal_comprehensive_analysis: a candidate profile → score, strengths, gaps, recommendations, matched
 * and missing skills, from the AI provider holding the lock (or the heuristic, degraded); emits
 * analysis_complete.
 */
export const analysisComprehensiveRun = route('analysis-comprehensive-run', {
  methods: ['POST'],
  route: 'analysis/comprehensive',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'analysis', rateClass: 'ai' },
  body: comprehensiveBodySchema,
  summary: 'portal_comprehensive_analysis: score a candidate profile (AI provider or heuristic)',
  tags: ['analysis'],
  handler: async ({ body, services, principal }) => {
    // An end user's analysis is about themselves (their id when left out; 403 for anyone else's).
    const userId = userIdFor(principal, body.userId, 'run an analysis about');
    const request = { ...body, ...(userId !== undefined ? { userId } : {}) };
    return ok(await services.analysis.comprehensive(request, principal), { 'cache-control': 'no-store' });
  },
});
