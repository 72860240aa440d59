import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Texts per embeddings request, and characters per text. */
export const MAX_EMBEDDING_TEXTS = 16;
export const MAX_EMBEDDING_TEXT = 8000;

/** get_embeddings: from the provider holding the lock (its AI_<NAME>_EMBEDDING_MODEL); 503 without one. */
export const textEmbeddings = route('text-embeddings-create', {
  methods: ['POST'],
  route: 'text/embeddings',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'text', rateClass: 'ai' },
  body: z.strictObject({
    texts: z.array(z.string().trim().min(1).max(MAX_EMBEDDING_TEXT)).min(1).max(MAX_EMBEDDING_TEXTS),
  }),
  summary: 'get_embeddings: vectors from the AI provider holding the lock (503 without one)',
  tags: ['text'],
  handler: async ({ body, services }) =>
    ok(await services.textAnalytics.embeddings(body.texts), { 'cache-control': 'no-store' }),
});
