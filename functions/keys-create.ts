import { created } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { keyCreateSchema } from '../shared/http/schemas';
import { validationProblem } from '../shared/http/validation';

const MAX_LIFETIME_MS = 10 * 365 * 86_400_000;

/**
 * Issues an API key; the key is in this response only and stored as a hash. `scopes` narrows it to
 * route groups, `expiresAt` ends it (401 afterwards); without them it has its role's full reach.
 */
export const keysCreate = route('keys-create', {
  methods: ['POST'],
  route: 'keys',
  access: { roles: ['admin'], scope: 'keys' },
  body: keyCreateSchema,
  summary: 'Issue an API key, optionally scoped and expiring (shown once, stored as a hash)',
  tags: ['keys'],
  handler: async ({ body, services }) => {
    const now = services.clock.now();
    const expiresAt = body.expiresAt === undefined ? undefined : Date.parse(body.expiresAt);
    if (expiresAt !== undefined && (expiresAt <= now || expiresAt > now + MAX_LIFETIME_MS)) {
      throw validationProblem(
        [{ path: '/expiresAt', message: 'must be in the future, at most 10 years ahead' }],
        'Invalid expiresAt.',
      );
    }
    const issued = await services.apiKeys.issue(body.role, body.name, {
      ...(body.scopes ? { scopes: body.scopes } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    return created(issued, { location: `/api/keys/${issued.id}`, 'cache-control': 'no-store' });
  },
});
