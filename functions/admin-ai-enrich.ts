import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { enrichSchema } from '../shared/services/admin/admin-schemas';

/**
 * Enriches a profile (admin): normalised job title, skills from the profile and the latest CV text,
 * language — written as the profile field `enrichment` by an admin sync (user_update event).
 */
export const adminAiEnrich = route('admin-ai-enrich', {
  methods: ['POST'],
  route: adminRoute('ai/enrich'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  body: enrichSchema,
  summary: 'Enrich a profile: title, skills (profile + CV), language; an admin write (admin)',
  tags: ['admin', 'ai'],
  handler: async ({ body, services }) => ok(await services.admin.ai.enrich(body.userId)),
});
