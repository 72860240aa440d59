import { z } from 'zod';
import { toJsonObject } from '../shared/domain/json';
import {
  TITLE_BATCH_MAX_TITLES,
  TITLE_BATCH_MAX_TITLE_CHARS,
  TITLE_BATCH_MAX_TOTAL_CHARS,
  distinctTitleChars,
} from '../shared/domain/job-titles';
import { idempotencyKeyOf, meteredHeaders, meteredResponse } from '../shared/http/metered';
import { userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

const bodySchema = z.strictObject({
  userId: userIdParam,
  titles: z
    .array(z.string().max(TITLE_BATCH_MAX_TITLE_CHARS))
    .min(1)
    .max(TITLE_BATCH_MAX_TITLES)
    .refine(
      (titles) => distinctTitleChars(titles) <= TITLE_BATCH_MAX_TOTAL_CHARS,
      `distinct titles may total at most ${TITLE_BATCH_MAX_TOTAL_CHARS} characters`,
    ),
  mode: z.enum(['words', 'titles']).optional(),
  maxTerms: z.number().int().min(1).max(200).optional(),
  includeSeniority: z.boolean().optional(),
});

/**
 * generate_word_cloud (metered, BRIDGE_TOKEN_COST_WORD_CLOUD): job titles → normalised terms with
 * weights and an SVG rendering; `?format=svg` answers with the SVG itself (image/svg+xml).
 */
export const jobTitlesWordCloudCreate = route('job-titles-word-cloud-create', {
  methods: ['POST'],
  route: 'job-titles/word-cloud',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'tokens:spend' },
  query: z.object({ format: z.enum(['json', 'svg'], 'must be json or svg').optional() }),
  body: bodySchema,
  summary: 'generate_word_cloud (metered): weighted terms of job titles, as JSON or SVG',
  tags: ['job-titles'],
  handler: async ({ request, query, body, services, principal }) => {
    const { userId, titles, ...options } = body;
    const outcome = await services.metering.run({
      operation: 'word-cloud',
      userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { query, body },
      subject: `${titles.length} titles`,
      compute: async () => {
        // Counting and the SVG layout run on the compute worker (seconds of CPU at the bounds).
        return toJsonObject(await services.jobTitles.wordCloud(titles, options));
      },
    });
    if (query.format !== 'svg') return meteredResponse('word-cloud', userId, outcome);
    const { svg } = outcome.result;
    if (typeof svg !== 'string') throw new Error('the recorded word cloud has no SVG');
    return {
      status: 200,
      body: svg,
      headers: {
        'content-type': 'image/svg+xml; charset=utf-8',
        ...meteredHeaders(outcome),
        'x-tokens-charged': String(outcome.receipt.amount),
        'x-tokens-balance': String(outcome.receipt.balance),
      },
    };
  },
});
