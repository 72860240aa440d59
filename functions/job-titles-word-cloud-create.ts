import { app } from '@azure/functions';
import { z } from 'zod';
import { renderWordCloudSvg, type WordCloudTerm } from '../shared/domain/job-titles';
import type { JsonValue } from '../shared/ports/document-store';
import { chargeAndRecord, meteredResponse, userIdSchema } from '../shared/http/metered';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { validationProblem } from '../shared/http/validation';

const bodySchema = z.strictObject({
  userId: userIdSchema,
  titles: z.array(z.string().max(500)).min(1).max(10_000),
  mode: z.enum(['words', 'titles']).optional(),
  maxTerms: z.number().int().min(1).max(200).optional(),
  includeSeniority: z.boolean().optional(),
});

/**
 * generate_word_cloud (metered, BRIDGE_TOKEN_COST_WORD_CLOUD): job titles → normalised terms with
 * weights and an SVG rendering; `?format=svg` answers with the SVG itself (image/svg+xml).
 */
export const wordCloudCreate = route({ roles: ['admin', 'user', 'service'] }, async (args) => {
  const { request, services } = args;
  const format = request.query.get('format') ?? 'json';
  if (format !== 'json' && format !== 'svg') {
    throw validationProblem([{ path: 'format', message: 'must be json or svg' }], 'Invalid format.');
  }
  const body = await readJsonBody(request, bodySchema, services.config.http.maxBodyBytes);
  const { userId, titles, ...options } = body;
  const cloud = await services.jobTitles.wordCloud(titles, options);
  const outcome = await chargeAndRecord(
    args,
    'word-cloud',
    userId,
    `${titles.length} titles`,
    cloud as unknown as JsonValue,
  );
  const terms = (outcome.result as unknown as { terms: WordCloudTerm[] }).terms;
  const svg = renderWordCloudSvg(terms);
  if (format === 'svg') {
    return {
      status: 200,
      body: svg,
      headers: {
        'content-type': 'image/svg+xml; charset=utf-8',
        'cache-control': 'no-store',
        'x-tokens-charged': String(outcome.receipt.amount),
        'x-tokens-balance': String(outcome.receipt.balance),
        ...(outcome.receipt.replayed ? { 'idempotent-replayed': 'true' } : {}),
      },
    };
  }
  return meteredResponse('word-cloud', userId, {
    ...outcome,
    result: { ...(outcome.result as Record<string, JsonValue>), svg },
  });
});

app.http('word-cloud-create', {
  methods: ['POST'],
  route: 'job-titles/word-cloud',
  authLevel: 'anonymous',
  handler: wordCloudCreate,
});
