import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';
import { generateContentSchema } from '../shared/services/admin/admin-schemas';

/**
 * Generates content (admin) through the provider lock — `profile_summary`, `job_description` or
 * `outreach_email` — validated against the kind's schema; with no provider answering, a template
 * draft from the input alone, `degraded: true`, with its placeholders listed.
 */
export const adminAiContentGenerate = route('admin-ai-content-generate', {
  methods: ['POST'],
  route: adminRoute('ai/content/generate'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  body: generateContentSchema,
  summary: 'Generate a profile summary, job description or outreach email (admin)',
  tags: ['admin', 'ai'],
  handler: async ({ body, services }) => ok(await services.admin.ai.generate(body)),
});
