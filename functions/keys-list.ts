import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** The API keys (never the keys themselves). */
export const keysList = route('keys-list', {
  methods: ['GET'],
  route: 'keys',
  access: { roles: ['admin'], scope: 'keys' },
  summary: 'List API keys (ids, roles, names; never the keys)',
  tags: ['keys'],
  handler: async ({ services }) => ok({ keys: await services.apiKeys.list() }),
});
