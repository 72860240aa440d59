import { ok } from '../shared/http/http-response';
import { adminParams, adminRoute } from '../shared/http/params';
import { route } from '../shared/http/route';

/** The AI providers behind the lock (admin): active one and why, models, health, cooldowns, structured-output mode. */
export const adminAiModelsStatusGet = route('admin-ai-models-status-get', {
  methods: ['GET'],
  route: adminRoute('ai/models/status'),
  access: { roles: ['admin'], scope: 'admin' },
  params: adminParams({}),
  summary: 'AI providers: active, models, health, cooldowns, structured-output mode (admin)',
  tags: ['admin', 'ai'],
  handler: async ({ services }) =>
    ok(await services.admin.ai.modelsStatus(), { 'cache-control': 'no-store' }),
});
