import { z } from 'zod';
import { MAX_ANALYTICS_TEXT } from '../shared/domain/text/analytics';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Key phrases of a text: through the provider lock (each must occur in the text), or RAKE locally. */
export const textKeyPhrases = route('text-key-phrases-run', {
  methods: ['POST'],
  route: 'text/key-phrases',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'text', rateClass: 'ai' },
  body: z.strictObject({
    text: z.string().trim().min(1).max(MAX_ANALYTICS_TEXT),
    max: z.number().int().min(1).max(50).default(10),
  }),
  summary: 'Key phrases of a text: through the provider lock, or RAKE locally',
  tags: ['text'],
  handler: async ({ body, services }) =>
    ok(await services.textAnalytics.keyPhrases(body.text, body.max), { 'cache-control': 'no-store' }),
});
