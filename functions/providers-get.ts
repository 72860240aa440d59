import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { validationProblem } from '../shared/http/validation';

/**
 * The provider lock: the active AI provider and why, each provider's state and cooldown left, the
 * next in line, and the newest `audit` (default 50, at most 1000) lock events.
 */
export const providersGet = route({ roles: ['admin', 'user', 'service'] }, async ({ request, services }) => {
  const auditText = request.query.get('audit') ?? '50';
  const audit = Number(auditText);
  if (!/^\d{1,4}$/.test(auditText) || audit > 1000) {
    throw validationProblem([{ path: 'audit', message: 'must be a whole number from 0 to 1000' }]);
  }
  return ok(await services.analysis.providers(audit), { 'cache-control': 'no-store' });
});

app.http('providers-get', {
  methods: ['GET'],
  route: 'providers',
  authLevel: 'anonymous',
  handler: providersGet,
});
