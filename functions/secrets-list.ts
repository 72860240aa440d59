import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Secret names and metadata (`{secrets:[{name, enabled, source, readOnly, contentType?, createdOn?, updatedOn?}]}`), never values. */
export const secretsList = route('secrets-list', {
  methods: ['GET'],
  route: 'secrets',
  access: { roles: ['admin'], scope: 'secrets' },
  summary: 'Secret names and metadata, never values',
  tags: ['secrets'],
  handler: async ({ services }) =>
    ok({ secrets: await services.secrets.list() }, { 'cache-control': 'no-store' }),
});
