/**
 * Response shapes of the career routes (resumes, profile skills, career, jobs, applications, text
 * analytics), for the route registry (OpenAPI). Requests are validated where each route declares them.
 */
import { z } from 'zod';
import { actorSchema } from './command-schemas';

const languageGuess = z.object({
  language: z.string(),
  margin: z.number(),
  alternatives: z.array(z.object({ language: z.string(), score: z.number() })),
});

export const resumeSchema = z.object({
  id: z.string(),
  userId: z.string(),
  fileName: z.string(),
  contentType: z.string(),
  format: z.enum(['pdf', 'docx', 'text']),
  bytes: z.number().int(),
  pages: z.number().int().optional(),
  textExtracted: z.literal(true),
  language: languageGuess,
  sections: z.object({
    header: z.array(z.string()),
    sections: z.array(z.object({ name: z.string(), heading: z.string(), lines: z.array(z.string()) })),
  }),
  skills: z.array(
    z.object({ skill: z.string(), source: z.enum(['skills-section', 'text']), mentions: z.number().int() }),
  ),
  unrecognizedSkills: z.array(z.string()),
  extractedChars: z.number().int(),
  truncated: z.boolean(),
  filePath: z.string(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: actorSchema,
  text: z.string().optional(),
});

export const resumeListSchema = z.object({ userId: z.string(), resumes: z.array(resumeSchema) });

export const metadataSchema = z.object({
  provider: z.string(),
  model: z.string(),
  method: z.string().optional(),
  confidence: z.number().min(0).max(1).optional(),
  degraded: z.boolean(),
  failure: z.object({ provider: z.string(), kind: z.string(), message: z.string().optional() }).optional(),
});
