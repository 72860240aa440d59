import { ok } from '../shared/http/http-response';
import { exportViewSchema } from '../shared/http/admin-responses';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { jobIdSchema } from '../shared/services/admin/admin-schemas';
import { ServiceError } from '../shared/services/errors';

/**
 * An export's status and counts; once it has succeeded, a download link: in Azure a short-lived,
 * read-only user-delegation SAS of the file (BRIDGE_ADMIN_EXPORT_LINK_SECONDS); with the embedded
 * file store, the bridge's files route (send the admin key with it).
 */
export const adminExportsGet = route('admin-exports-get', {
  methods: ['GET'],
  route: adminRoute('exports/{id}'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({ id: jobIdSchema('exp') }),
  summary: "An export's status, counts and download link (admin)",
  tags: ['admin'],
  responses: { 200: exportViewSchema },
  handler: async ({ request, params, services }) => {
    const job = await services.admin.transfers.getExport(params.id);
    if (!job) throw new ServiceError('not-found', `No export ${params.id}.`);
    const view = services.admin.transfers.exportView(job);
    const link = job.link;
    if (!link) return ok(view, { 'cache-control': 'no-store' });
    const download =
      link.kind === 'url'
        ? { url: link.url, urlExpiresAt: link.expiresAt, urlNeedsApiKey: false }
        : {
            url: `${new URL(request.url).origin}/api/files/${link.path}`,
            urlExpiresAt: null,
            urlNeedsApiKey: true,
          };
    return ok({ ...view, ...download }, { 'cache-control': 'no-store' });
  },
});
