import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { geographicBodySchema } from '../shared/services/analysis-schemas';

/**
 * portal_geographic_analysis: a place (name or lat/lon) and a radius → the resolved place, nearby
 * places with distances and commute estimates, a labour-market size proxy and market trends from the
 * bridge's own profiles. Computed locally.
 */
export const analysisGeographicRun = route('analysis-geographic-run', {
  methods: ['POST'],
  route: 'analysis/geographic',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'analysis' },
  body: geographicBodySchema,
  summary: 'portal_geographic_analysis: nearby places, commute estimates and market trends for a place',
  tags: ['analysis'],
  handler: async ({ body, services }) =>
    ok(await services.analysis.geographic(body), { 'cache-control': 'no-store' }),
});
