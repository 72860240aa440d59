import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { forbidden } from '../shared/http/problem-error';
import { route } from '../shared/http/route';

/**
 * Lists files: `?prefix=&continuation=&limit=` → `{files:[{path, size, contentType, etag,
 * lastModified}], continuation}` in path order; pass `continuation` back for the next page (null on
 * the last). A user key lists only under users/ (and there by default).
 */
export const filesList = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services, principal }) => {
    const q = request.query;
    const scope = services.files.listScope(principal.role, q.get('prefix'));
    if (!scope.allowed) throw forbidden(scope.reason);
    const page = await services.files.list(scope.path, {
      continuation: q.get('continuation'),
      limit: q.get('limit'),
    });
    return ok(page, { 'cache-control': 'no-store' });
  },
);

app.http('files-list', { methods: ['GET'], route: 'files', authLevel: 'anonymous', handler: filesList });
