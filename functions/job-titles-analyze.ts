import { app } from '@azure/functions';
import { z } from 'zod';
import type { JsonValue } from '../shared/ports/document-store';
import { chargeAndRecord, meteredResponse, titleSchema, userIdSchema } from '../shared/http/metered';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';

const bodySchema = z.strictObject({
  userId: userIdSchema,
  title: titleSchema,
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
export const jobTitlesAnalyze = route({ roles: ['admin', 'user', 'service'] }, async (args) => {
  const body = await readJsonBody(args.request, bodySchema, args.services.config.http.maxBodyBytes);
  const analysis = await args.services.jobTitles.analyze(body.title, body.context ?? {});
  const outcome = await chargeAndRecord(
    args,
    'analyze-title',
    body.userId,
    body.title,
    analysis as unknown as JsonValue,
  );
  return meteredResponse('analyze-title', body.userId, outcome);
});

app.http('job-titles-analyze', {
  methods: ['POST'],
  route: 'job-titles/analyze',
  authLevel: 'anonymous',
  handler: jobTitlesAnalyze,
});
