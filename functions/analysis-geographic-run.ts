import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { geographicBodySchema } from '../shared/services/analysis-schemas';

/**
 * portal_geographic_analysis: a place (name or lat/lon) and a radius → the resolved place, nearby
 * places with distances and commute estimates, a labour-market size proxy and market trends from the
 * bridge's own profiles. Computed locally.
 */
export const analysisGeographicRun = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services }) => {
    const body = await readJsonBody(request, geographicBodySchema, services.config.http.maxBodyBytes);
    return ok(await services.analysis.geographic(body), { 'cache-control': 'no-store' });
  },
);

app.http('analysis-geographic-run', {
  methods: ['POST'],
  route: 'analysis/geographic',
  authLevel: 'anonymous',
  handler: analysisGeographicRun,
});
