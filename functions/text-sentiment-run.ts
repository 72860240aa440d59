import { z } from 'zod';
import { MAX_ANALYTICS_TEXT } from '../shared/domain/text/analytics';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Sentiment of a text: through the provider lock, or AFINN-165 locally (English). */
export const textSentiment = route('text-sentiment-run', {
  methods: ['POST'],
  route: 'text/sentiment',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'text', rateClass: 'ai' },
  body: z.strictObject({ text: z.string().trim().min(1).max(MAX_ANALYTICS_TEXT) }),
  summary: 'Sentiment of a text: through the provider lock, or AFINN-165 locally (English)',
  tags: ['text'],
  handler: async ({ body, services }) =>
    ok(await services.textAnalytics.sentiment(body.text), { 'cache-control': 'no-store' }),
});
