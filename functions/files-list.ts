import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { fileListPrefixFor } from '../shared/services/access-policy';

/**
 * Lists files: `?prefix=&continuation=&limit=` → `{files:[{path, size, contentType, etag,
 * lastModified}], continuation}` in path order; pass `continuation` back for the next page (null on
 * the last). A user key lists only under users/ (and there by default), an end user only under
 * users/<self>/ (ditto). The file service checks the form of each parameter (400 naming it).
 */
export const filesList = route('files-list', {
  methods: ['GET'],
  route: 'files',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'files' },
  query: z.object({
    prefix: z.string().optional(),
    continuation: z.string().optional(),
    limit: z.string().optional(),
  }),
  summary: 'List files under a prefix, in path order, page by page',
  tags: ['files'],
  handler: async ({ query, services, principal }) => {
    const prefix = fileListPrefixFor(principal, services.files.checkPrefix(query.prefix));
    const page = await services.files.list(prefix, {
      continuation: query.continuation,
      limit: query.limit,
    });
    return ok(page, { 'cache-control': 'no-store' });
  },
});
