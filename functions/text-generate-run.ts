import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** generate_content: text from the AI provider holding the lock; 503 without one. */
export const textGenerate = route('text-generate-run', {
  methods: ['POST'],
  route: 'text/generate',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'text', rateClass: 'ai' },
  body: z.strictObject({
    prompt: z.string().trim().min(1).max(8000),
    system: z.string().trim().min(1).max(2000).optional(),
    maxTokens: z.number().int().min(16).max(2000).default(600),
  }),
  summary: 'generate_content: text from the AI provider holding the lock (503 without one)',
  tags: ['text'],
  handler: async ({ body, services }) =>
    ok(
      await services.textAnalytics.generate(body.prompt, {
        maxTokens: body.maxTokens,
        ...(body.system !== undefined ? { system: body.system } : {}),
      }),
      { 'cache-control': 'no-store' },
    ),
});
