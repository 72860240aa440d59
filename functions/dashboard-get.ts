import { z } from 'zod';
import { route } from '../shared/http/route';
import { serveSite, siteAssetParam } from '../shared/http/static-site';

/**
 * The admin debug page (issue 13) and its scripts and styles: static files with no data in them,
 * so they are public; the page asks for the admin key (kept in sessionStorage, never in the URL)
 * and sends it as x-api-key on every fetch of the admin routes it shows. Strict CSP.
 */
export const dashboardGet = route('dashboard-get', {
  methods: ['GET'],
  route: 'dashboard/{*asset}',
  access: 'public',
  params: z.object({ asset: siteAssetParam }),
  summary: 'The admin debug page (HTML, scripts, styles; its data routes need an admin key)',
  tags: ['dashboard'],
  handler: ({ services, request, params }) => serveSite(services, request, 'dashboard', params.asset),
});
