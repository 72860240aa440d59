import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { bayesianBodySchema } from '../shared/services/analysis-schemas';

/**
 * portal_bayesian_inference: `{role, roleFamily?, profile}` → posterior fit probability, its 95 %
 * credible interval and the evidence that moved it. Computed locally (Beta-Binomial model).
 */
export const analysisBayesianRun = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services }) => {
    const body = await readJsonBody(request, bayesianBodySchema, services.config.http.maxBodyBytes);
    return ok(await services.analysis.bayesian(body), { 'cache-control': 'no-store' });
  },
);

app.http('analysis-bayesian-run', {
  methods: ['POST'],
  route: 'analysis/bayesian',
  authLevel: 'anonymous',
  handler: analysisBayesianRun,
});
