import { z } from 'zod';
import { toJsonObject } from '../shared/domain/json';
import { idempotencyKeyOf, meteredResponse } from '../shared/http/metered';
import { titleParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

const bodySchema = z.strictObject({
  userId: userIdParam,
  title: titleParam,
  context: z
    .strictObject({
      skills: z.array(z.string().max(100)).max(200).optional(),
      relatedLimit: z.number().int().min(0).max(50).optional(),
    })
    .optional(),
});

/**
 * analyze_job_title (metered, BRIDGE_TOKEN_COST_ANALYZE_TITLE): normalised title, family, seniority,
 * typical skills (compared with `context.skills`), related titles and a confidence.
 */
export const jobTitlesAnalyze = route('job-titles-analyze', {
  methods: ['POST'],
  route: 'job-titles/analyze',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'tokens:spend' },
  body: bodySchema,
  summary: 'analyze_job_title (metered): normalised title, family, seniority, skills, related titles',
  tags: ['job-titles'],
  handler: async ({ request, body, services, principal }) => {
    const outcome = await services.metering.run({
      operation: 'analyze-title',
      userId: body.userId,
      principal,
      idempotencyKey: idempotencyKeyOf(request),
      request: { body },
      subject: body.title,
      compute: async () => toJsonObject(await services.jobTitles.analyze(body.title, body.context ?? {})),
    });
    return meteredResponse('analyze-title', body.userId, outcome);
  },
});
