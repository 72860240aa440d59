import { z } from 'zod';
import { MAX_ANALYTICS_TEXT } from '../shared/domain/text/analytics';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Language of a text: through the provider lock, or franc-min locally. */
export const textLanguage = route('text-language-run', {
  methods: ['POST'],
  route: 'text/language',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'text', rateClass: 'ai' },
  body: z.strictObject({ text: z.string().trim().min(1).max(MAX_ANALYTICS_TEXT) }),
  summary: 'Language of a text: through the provider lock, or franc-min locally',
  tags: ['text'],
  handler: async ({ body, services }) =>
    ok(await services.textAnalytics.language(body.text), { 'cache-control': 'no-store' }),
});
