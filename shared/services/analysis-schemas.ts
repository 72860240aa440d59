/**
 * Request and response shapes of the analysis and provider routes. The analysis results themselves
 * are the domain's (shared/domain/analysis/schemas.ts); this adds what the HTTP surface needs.
 */
import { z } from 'zod';
import {
  MAX_ITEM_TEXT,
  MAX_LIST_ITEMS,
  MAX_SHORT_TEXT,
  analysisMetadataSchema,
  bayesianAnyRequestSchema,
  bayesianResultSchema,
  comprehensiveAnalysisSchema,
  comprehensiveRequestSchema,
  geographicAnalysisSchema,
  geographicRequestSchema,
} from '../domain/analysis/schemas';
import { userIdSchema } from './command-schemas';

// ---------------------------------------------------------------------------------------------------
// Requests

/** comprehensive: the domain request plus the user it is about (becomes the event's subject). */
export const comprehensiveBodySchema = comprehensiveRequestSchema.extend({ userId: userIdSchema.optional() });
export type ComprehensiveBody = z.output<typeof comprehensiveBodySchema>;
export const geographicBodySchema = geographicRequestSchema;
/** Explicit evidence counts (`profile`), or a candidate profile to derive them from. */
export const bayesianBodySchema = bayesianAnyRequestSchema;

const reason = z.string().trim().min(1).max(500);
export const providerLockBodySchema = z.strictObject({
  provider: z.string().trim().toLowerCase().min(1).max(50),
  reason,
});
export const providerReleaseBodySchema = z.strictObject({ reason });

// ---------------------------------------------------------------------------------------------------
// Responses

export const comprehensiveResponseSchema = z.strictObject({
  result: comprehensiveAnalysisSchema,
  metadata: analysisMetadataSchema,
  /** The analysis_complete event committed for this analysis. */
  event: z.strictObject({ id: z.string(), sequence: z.string() }),
});
export type ComprehensiveResponse = z.output<typeof comprehensiveResponseSchema>;

export const marketTrendsSchema = z.discriminatedUnion('available', [
  z.strictObject({ available: z.literal(false), reason: z.string() }),
  z.strictObject({
    available: z.literal(true),
    source: z.string(),
    /** Profiles read (at most MARKET_SCAN_LIMIT) and whether that was all of them. */
    profilesScanned: z.number().int().min(0),
    complete: z.boolean(),
    /** Profiles with a city or location at all. */
    profilesWithLocation: z.number().int().min(0),
    /** Profiles whose city/location names a place within the radius. */
    profilesInArea: z.number().int().min(0),
    /** profilesInArea / profilesWithLocation. */
    shareOfLocatedProfiles: z.number().min(0).max(1),
    /** Of profilesInArea, those created in the last TREND_WINDOW_DAYS days. */
    newInWindow: z.number().int().min(0),
    windowDays: z.number().int().positive(),
    byPlace: z.array(
      z.strictObject({
        name: z.string(),
        distanceKm: z.number().min(0),
        profiles: z.number().int().min(0),
        newInWindow: z.number().int().min(0),
      }),
    ),
    computedAt: z.string(),
    note: z.string(),
  }),
]);
export type MarketTrends = z.output<typeof marketTrendsSchema>;

export const geographicResponseSchema = z.strictObject({
  result: geographicAnalysisSchema.extend({ marketTrends: marketTrendsSchema }),
  metadata: analysisMetadataSchema,
});
export type GeographicResponse = z.output<typeof geographicResponseSchema>;

export const bayesianResponseSchema = bayesianResultSchema;

// ---------------------------------------------------------------------------------------------------
// What an AI provider must answer (validated before anything is used)

const skill = z.string().trim().min(1).max(MAX_SHORT_TEXT);
const item = z.string().trim().min(1).max(MAX_ITEM_TEXT);

/**
 * The provider's answer: the comprehensive analysis plus its own confidence. Unknown keys are dropped
 * (never passed through); anything else that does not fit is invalid output.
 */
export const providerAnswerSchema = z.object({
  score: z.number().min(0).max(100),
  strengths: z.array(item).max(MAX_LIST_ITEMS),
  gaps: z.array(item).max(MAX_LIST_ITEMS),
  recommendations: z.array(item).max(MAX_LIST_ITEMS),
  matchedSkills: z.array(skill).max(MAX_LIST_ITEMS),
  missingSkills: z.array(skill).max(MAX_LIST_ITEMS),
  confidence: z.number().min(0).max(1),
});
export type ProviderAnswer = z.output<typeof providerAnswerSchema>;

/**
 * The JSON Schema sent as `response_format.json_schema` (and quoted in the prompt): the same fields
 * as providerAnswerSchema, limited to the keywords strict structured outputs accept (types, required,
 * additionalProperties: false, numeric bounds); string lengths and list sizes are checked by zod after.
 */
export const providerAnswerWireSchema = z.strictObject({
  score: z.number().min(0).max(100).describe('Overall fit of the candidate for the target role, 0-100.'),
  strengths: z.array(z.string()).describe('Strengths for the target role, one sentence each.'),
  gaps: z.array(z.string()).describe('Gaps for the target role, one sentence each.'),
  recommendations: z.array(z.string()).describe('Concrete next steps, one sentence each.'),
  matchedSkills: z
    .array(z.string())
    .describe("Required skills of the role the candidate has, copied verbatim from the candidate's skills."),
  missingSkills: z.array(z.string()).describe('Required skills of the role the candidate lacks.'),
  confidence: z.number().min(0).max(1).describe('Your confidence in this assessment, 0-1.'),
});

export function providerAnswerJsonSchema(): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(providerAnswerWireSchema) as Record<
    string,
    unknown
  >;
  return schema;
}
