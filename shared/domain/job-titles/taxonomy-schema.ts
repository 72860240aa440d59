/**
 * Zod (v4) schemas for the job-title taxonomy (data/job-titles/taxonomy.json and imports).
 *
 * These schemas check the shape of each record. Cross-record rules (unique ids, references that
 * resolve, names/aliases that normalise to the same key) need the whole document and live in
 * `validateTaxonomy` in taxonomy.ts.
 */
import { z } from 'zod';

/** Ordered seniority levels. `rank` orders them for comparisons (manager and lead are parallel tracks). */
export const SENIORITY_LEVELS = [
  'intern',
  'entry',
  'mid',
  'senior',
  'lead',
  'principal',
  'manager',
  'director',
  'vp',
  'executive',
] as const;

export type Seniority = (typeof SENIORITY_LEVELS)[number];

export const SENIORITY_RANK: Readonly<Record<Seniority, number>> = {
  intern: 0,
  entry: 1,
  mid: 2,
  senior: 3,
  lead: 4,
  principal: 5,
  manager: 4,
  director: 6,
  vp: 7,
  executive: 8,
};

/** Human-readable labels for seniority levels. */
export const SENIORITY_LABELS: Readonly<Record<Seniority, string>> = {
  intern: 'Intern',
  entry: 'Entry level',
  mid: 'Mid level',
  senior: 'Senior',
  lead: 'Lead / Staff',
  principal: 'Principal',
  manager: 'Manager',
  director: 'Director',
  vp: 'Vice President',
  executive: 'Executive',
};

export const PROGRESSION_KINDS = ['promotion', 'lateral'] as const;
export type ProgressionKind = (typeof PROGRESSION_KINDS)[number];

const ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** SOC 2018 detailed occupation code, e.g. 15-1252. */
const SOC_PATTERN = /^\d{2}-\d{4}$/;

export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(80, 'must be at most 80 characters')
  .regex(ID_PATTERN, 'must be lower-case kebab-case (a-z, 0-9 and single hyphens)');

const nameSchema = z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters');
const listItemSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(120, 'must be at most 120 characters');

export const senioritySchema = z.enum(SENIORITY_LEVELS);

export const jobFamilySchema = z.strictObject({
  id: idSchema,
  name: nameSchema,
  description: z.string().max(500).optional(),
});

export const jobTitleSchema = z.strictObject({
  id: idSchema,
  name: nameSchema,
  family: idSchema,
  seniority: senioritySchema,
  /** SOC 2018 detailed occupation code; only set where the mapping is unambiguous. */
  soc: z.string().regex(SOC_PATTERN, 'must look like 15-1252 (SOC 2018 detailed code)').optional(),
  aliases: z.array(listItemSchema).max(60).default([]),
  abbreviations: z.array(listItemSchema).max(20).default([]),
  skills: z.array(listItemSchema).max(40).default([]),
  related: z.array(idSchema).max(40).default([]),
});

/** Curated estimate of the years usually spent in `from` before the move; not survey data. */
export const typicalYearsSchema = z
  .strictObject({
    min: z.number().min(0).max(40),
    max: z.number().min(0).max(40),
  })
  .refine((y) => y.min <= y.max, { message: 'min must not exceed max', path: ['max'] });

export const progressionEdgeSchema = z.strictObject({
  from: idSchema,
  to: idSchema,
  kind: z.enum(PROGRESSION_KINDS),
  typicalYears: typicalYearsSchema,
});

export const taxonomySourceSchema = z.strictObject({
  id: idSchema,
  name: nameSchema,
  url: z.url().optional(),
  note: z.string().max(1000).optional(),
});

/** Document-level fields (everything except the three record lists). */
export const taxonomyMetaSchema = z.object({
  schemaVersion: z.literal(1),
  name: nameSchema,
  version: z.string().min(1).max(40),
  description: z.string().max(2000).optional(),
  sources: z.array(taxonomySourceSchema).default([]),
});

export const taxonomySchema = z.strictObject({
  schemaVersion: z.literal(1),
  name: nameSchema,
  version: z.string().min(1).max(40),
  description: z.string().max(2000).optional(),
  sources: z.array(taxonomySourceSchema).default([]),
  families: z.array(jobFamilySchema).min(1),
  titles: z.array(jobTitleSchema).min(1),
  progression: z.array(progressionEdgeSchema).default([]),
});

export type JobFamily = z.infer<typeof jobFamilySchema>;
export type JobTitle = z.infer<typeof jobTitleSchema>;
export type TypicalYears = z.infer<typeof typicalYearsSchema>;
export type ProgressionEdge = z.infer<typeof progressionEdgeSchema>;
export type TaxonomySource = z.infer<typeof taxonomySourceSchema>;
export type Taxonomy = z.infer<typeof taxonomySchema>;
/** What a caller may pass in (defaults not yet applied). */
export type TaxonomyInput = z.input<typeof taxonomySchema>;

/** Formats zod issues as `path: message` strings. */
export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}
