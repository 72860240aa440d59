/**
 * zod v4 schemas for the AI services bridge (issue 5): the requests it accepts and the normalized
 * results it returns, whichever provider (or the heuristic) produced them. Every result travels in
 * an envelope `{ result, metadata }`, where metadata says who produced it and how much to trust it.
 *
 * Bounds are sanity limits on input size, chosen to reject garbage and oversized bodies while
 * admitting any real CV or job description; each is a named constant below.
 */
import { z } from 'zod';
import { CREDIBLE_MASS } from './bayesian';
import { NEARBY_MAX_LIMIT } from './geo';
import { FAILURE_KINDS } from './provider-lock';

// ---------------------------------------------------------------------------------------------------
// Bounds

/** Longest short text field (role, education, skill, list item): a long sentence. */
export const MAX_SHORT_TEXT = 200;
/** Longest free-text item in a result list (a strength, gap or recommendation): a short paragraph. */
export const MAX_ITEM_TEXT = 1000;
/** Most entries in any list (skills in a request, items in a result list). */
export const MAX_LIST_ITEMS = 200;
/** Longest CV/job text accepted inline: 100 000 characters ≈ 40 pages of prose. */
export const MAX_DOCUMENT_TEXT = 100_000;
/** Upper bound for years of experience: a working life from 15 to 85. */
export const MAX_EXPERIENCE_YEARS = 70;
/**
 * Largest search radius: 500 km covers any daily commute several times over (and weekly commuting
 * regions); beyond it a "nearby" list and a labour-market proxy stop meaning anything.
 */
export const MAX_RADIUS_KM = 500;
/** Longest provider error message kept in metadata. */
export const MAX_FAILURE_MESSAGE = 2000;

// ---------------------------------------------------------------------------------------------------
// Building blocks

const shortText = z.string().trim().min(1).max(MAX_SHORT_TEXT);
const itemText = z.string().trim().min(1).max(MAX_ITEM_TEXT);
const itemList = z.array(itemText).max(MAX_LIST_ITEMS);
const skillList = z.array(shortText).max(MAX_LIST_ITEMS);
const probability = z.number().min(0).max(1);
const nonNegative = z.number().min(0);
const years = z.number().min(0).max(MAX_EXPERIENCE_YEARS);

export const latLonSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});

const betaParams = z.strictObject({ alpha: z.number().positive(), beta: z.number().positive() });

// ---------------------------------------------------------------------------------------------------
// Metadata envelope

export const analysisFailureSchema = z.strictObject({
  /** The provider whose failure this was. */
  provider: z.string().min(1),
  kind: z.enum(FAILURE_KINDS),
  message: z.string().max(MAX_FAILURE_MESSAGE).optional(),
});
export type AnalysisFailure = z.infer<typeof analysisFailureSchema>;

export const analysisMetadataSchema = z.strictObject({
  /** Provider that produced the result ('heuristic' for the local fallback). */
  provider: z.string().min(1),
  model: z.string().min(1),
  confidence: probability,
  /** True when the result is a fallback or partial answer rather than the locked provider's full one. */
  degraded: z.boolean(),
  /** Why the preferred provider did not answer, when it did not. */
  failure: analysisFailureSchema.optional(),
});
export type AnalysisMetadata = z.infer<typeof analysisMetadataSchema>;

/** `{ result, metadata }` around a result schema. */
export function withMetadata<T extends z.ZodType>(result: T) {
  return z.strictObject({ result, metadata: analysisMetadataSchema });
}

// ---------------------------------------------------------------------------------------------------
// Comprehensive analysis

export const comprehensiveRequestSchema = z.strictObject({
  skills: skillList,
  experienceYears: years,
  education: shortText,
  targetRole: shortText,
  text: z.string().max(MAX_DOCUMENT_TEXT).optional(),
});
export type ComprehensiveRequest = z.infer<typeof comprehensiveRequestSchema>;

export const comprehensiveAnalysisSchema = z.strictObject({
  score: z.number().min(0).max(100),
  strengths: itemList,
  gaps: itemList,
  recommendations: itemList,
  matchedSkills: skillList,
  missingSkills: skillList,
});
export type ComprehensiveAnalysis = z.infer<typeof comprehensiveAnalysisSchema>;
export const comprehensiveResultSchema = withMetadata(comprehensiveAnalysisSchema);
export type ComprehensiveResult = z.infer<typeof comprehensiveResultSchema>;

// ---------------------------------------------------------------------------------------------------
// Geographic analysis

export const geographicRequestSchema = z.strictObject({
  location: z.union([shortText, latLonSchema]),
  radiusKm: z.number().positive().max(MAX_RADIUS_KM),
  limit: z.number().int().min(1).max(NEARBY_MAX_LIMIT).optional(),
  /** ISO 3166-1 alpha-2 country hint; overrides a ", CC" suffix in the name. */
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'expected a two-letter ISO 3166-1 country code')
    .optional(),
});
export type GeographicRequest = z.infer<typeof geographicRequestSchema>;

const cityRef = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  country: z.string(),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  population: nonNegative,
});

const commuteMinutes = z.strictObject({
  walk: nonNegative,
  cycle: nonNegative,
  transit: nonNegative,
  car: nonNegative,
});

export const geographicAnalysisSchema = z.strictObject({
  location: z.strictObject({
    matchedBy: z.enum(['name', 'name-prefix', 'nearest']),
    city: cityRef,
    origin: latLonSchema,
    distanceToCityKm: nonNegative,
    country: z.string().nullable(),
    candidates: z.number().int().min(1),
    ignoredQualifiers: z.array(z.string()),
  }),
  radiusKm: nonNegative,
  nearby: z
    .array(
      cityRef.extend({
        distanceKm: nonNegative,
        commute: z.strictObject({ roadKm: nonNegative, minutes: commuteMinutes }),
      }),
    )
    .max(NEARBY_MAX_LIMIT),
  nearbyTotal: z.number().int().min(0),
  labourMarket: z.strictObject({
    kind: z.literal('population-within-radius'),
    proxy: z.literal(true),
    radiusKm: nonNegative,
    population: nonNegative,
    places: z.number().int().min(0),
    note: z.string(),
  }),
  assumptions: z.strictObject({
    earthRadiusKm: z.number().positive(),
    detourFactor: z.number().min(1),
    speedsKmh: z.strictObject({
      walk: z.number().positive(),
      cycle: z.number().positive(),
      transit: z.number().positive(),
      car: z.number().positive(),
    }),
  }),
});
export type GeographicAnalysisOutput = z.infer<typeof geographicAnalysisSchema>;
export const geographicResultSchema = withMetadata(geographicAnalysisSchema);
export type GeographicResult = z.infer<typeof geographicResultSchema>;

// ---------------------------------------------------------------------------------------------------
// Bayesian role fit

export const roleFitProfileSchema = z
  .strictObject({
    skillsMatched: z.number().int().min(0).max(MAX_LIST_ITEMS),
    skillsRequired: z.number().int().min(0).max(MAX_LIST_ITEMS),
    experienceYears: years,
    requiredExperienceYears: years,
    educationMatch: z.enum(['exceeds', 'meets', 'below', 'unknown']).default('unknown'),
  })
  .refine((p) => p.skillsMatched <= p.skillsRequired, {
    message: 'skillsMatched must not exceed skillsRequired',
    path: ['skillsMatched'],
  });

export const bayesianRequestSchema = z.strictObject({
  role: shortText,
  roleFamily: shortText.optional(),
  profile: roleFitProfileSchema,
});
export type BayesianCountsRequest = z.infer<typeof bayesianRequestSchema>;

/**
 * The Bayesian request in its other form: the candidate profile the comprehensive analysis takes
 * (skills, years, education, CV text) with the role; the evidence is then derived from the taxonomy.
 */
export const bayesianCandidateRequestSchema = z.strictObject({
  role: shortText,
  roleFamily: shortText.optional(),
  skills: skillList,
  experienceYears: years,
  education: shortText,
  text: z.string().max(MAX_DOCUMENT_TEXT).optional(),
});
export type BayesianCandidateRequest = z.infer<typeof bayesianCandidateRequestSchema>;

/** Either form (explicit counts in `profile`, or the candidate profile). */
export const bayesianAnyRequestSchema = z.union([bayesianRequestSchema, bayesianCandidateRequestSchema]);
export type BayesianRequest = z.infer<typeof bayesianAnyRequestSchema>;

export const bayesianAnalysisSchema = z
  .strictObject({
    role: z.string(),
    roleFamily: z.string().min(1),
    priorSource: z.enum(['family', 'default']),
    prior: betaParams,
    posterior: betaParams,
    probability,
    credibleInterval: z.tuple([probability, probability]),
    credibleMass: z.literal(CREDIBLE_MASS),
    evidence: z.array(
      z.strictObject({
        kind: z.enum(['skills', 'experience', 'education']),
        description: z.string(),
        successes: nonNegative,
        failures: nonNegative,
        probabilityBefore: probability,
        probabilityAfter: probability,
        shift: z.number().min(-1).max(1),
      }),
    ),
    /** With a candidate profile: how the counts were derived from it and the taxonomy. */
    derivedFrom: z
      .strictObject({
        titleId: z.string().nullable(),
        title: z.string().nullable(),
        seniority: z.string().nullable(),
        requiredSkills: z.array(z.string()),
        matchedSkills: z.array(z.string()),
        missingSkills: z.array(z.string()),
        requiredExperienceYears: z.number().min(0),
        requiredExperienceSource: z.string(),
        education: z.strictObject({
          recognised: z.string().nullable(),
          match: z.literal('unknown'),
          reason: z.string(),
        }),
        notes: z.array(z.string()),
      })
      .optional(),
  })
  // Not "low ≤ probability ≤ high": for very skewed posteriors (α or β ≪ 1) the mean can fall
  // outside the equal-tailed interval.
  .refine((r) => r.credibleInterval[0] <= r.credibleInterval[1], {
    message: 'credibleInterval must be [low, high] with low ≤ high',
    path: ['credibleInterval'],
  });
export type BayesianAnalysisOutput = z.infer<typeof bayesianAnalysisSchema>;
export const bayesianResultSchema = withMetadata(bayesianAnalysisSchema);
export type BayesianResult = z.infer<typeof bayesianResultSchema>;
