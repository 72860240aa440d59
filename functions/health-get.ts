import { json } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { healthResponseSchema } from '../shared/http/response-schemas';

/** Liveness and store check; open without a key so load balancers and monitors can call it. */
export const healthGet = route('health-get', {
  methods: ['GET'],
  route: 'health',
  access: 'public',
  summary: 'Liveness and a store check (no key needed)',
  tags: ['health'],
  responses: { 200: healthResponseSchema, 503: healthResponseSchema },
  handler: async ({ services }) => {
    const report = await services.health.check();
    return json(report.status === 'ok' ? 200 : 503, report, { 'cache-control': 'no-store' });
  },
});
