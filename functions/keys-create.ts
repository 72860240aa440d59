import { created } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { keyCreateSchema } from '../shared/http/schemas';

/** Issues an API key; the key is in this response only and stored as a hash. */
export const keysCreate = route('keys-create', {
  methods: ['POST'],
  route: 'keys',
  access: { roles: ['admin'] },
  body: keyCreateSchema,
  summary: 'Issue an API key (shown once, stored as a hash)',
  tags: ['keys'],
  handler: async ({ body, services }) => {
    const issued = await services.apiKeys.issue(body.role, body.name);
    return created(issued, { location: `/api/keys/${issued.id}`, 'cache-control': 'no-store' });
  },
});
