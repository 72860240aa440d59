import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { forbidden } from '../shared/http/problem-error';
import { route } from '../shared/http/route';

/**
 * Lists files: `?prefix=&continuation=&limit=` → `{files:[{path, size, contentType, etag,
 * lastModified}], continuation}` in path order; pass `continuation` back for the next page (null on
 * the last). A user key lists only under users/ (and there by default). The file service checks the
 * form of each parameter (400 naming it).
 */
export const filesList = route('files-list', {
  methods: ['GET'],
  route: 'files',
  access: { roles: ['admin', 'user', 'service'] },
  query: z.object({
    prefix: z.string().optional(),
    continuation: z.string().optional(),
    limit: z.string().optional(),
  }),
  summary: 'List files under a prefix, in path order, page by page',
  tags: ['files'],
  handler: async ({ query, services, principal }) => {
    const scope = services.files.listScope(principal.role, query.prefix);
    if (!scope.allowed) throw forbidden(scope.reason);
    const page = await services.files.list(scope.path, {
      continuation: query.continuation,
      limit: query.limit,
    });
    return ok(page, { 'cache-control': 'no-store' });
  },
});
