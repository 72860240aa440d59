import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { bayesianBodySchema } from '../shared/services/analysis-schemas';

/**
 * portal_bayesian_inference: `{role, roleFamily?, profile}` → posterior fit probability, its 95 %
 * credible interval and the evidence that moved it. Computed locally (Beta-Binomial model).
 */
export const analysisBayesianRun = route('analysis-bayesian-run', {
  methods: ['POST'],
  route: 'analysis/bayesian',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'analysis' },
  body: bayesianBodySchema,
  summary: 'portal_bayesian_inference: posterior fit of a profile for a role, with its credible interval',
  tags: ['analysis'],
  handler: async ({ body, services }) =>
    ok(await services.analysis.bayesian(body), { 'cache-control': 'no-store' }),
});
