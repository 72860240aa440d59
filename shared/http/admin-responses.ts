import { z } from 'zod';

/** Response shapes of the admin routes (documentation for OpenAPI; the services build the answers). */

const jobFields = {
  id: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  clientId: z.string().optional(),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
};

export const batchViewSchema = z.object({
  ...jobFields,
  status: z.enum(['running', 'cancelling', 'completed', 'cancelled']),
  total: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  cancelled: z.number(),
  pending: z.number(),
  running: z.number(),
  concurrency: z.number(),
});

export const exportViewSchema = z.object({
  ...jobFields,
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  includeEvents: z.boolean(),
  path: z.string(),
  users: z.number(),
  events: z.number(),
  bytes: z.number(),
  url: z.string().optional(),
  urlExpiresAt: z.string().nullable().optional(),
  urlNeedsApiKey: z.boolean().optional(),
});

export const importViewSchema = z.object({
  ...jobFields,
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  path: z.string(),
  bytes: z.number(),
  lines: z.number(),
  accepted: z.number(),
  changed: z.number(),
  unchanged: z.number(),
  skipped: z.number(),
  rejected: z.number(),
  rejectionsListed: z.number(),
});

export const seriesAnswerSchema = z.object({
  metric: z.string(),
  groupBy: z.string(),
  bucket: z.string(),
  from: z.string(),
  to: z.string(),
  series: z.array(
    z.object({
      group: z.string(),
      total: z.number(),
      points: z.array(z.object({ start: z.string(), value: z.number() })),
    }),
  ),
  total: z.number(),
  freshness: z.record(z.string(), z.unknown()),
});

/** A saved query (POST /api/admin/analytics/custom with `saveAs`). */
export const savedReportSchema = z.object({
  id: z.string(),
  name: z.string(),
  query: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  /** Who saved it (access-policy ownerIdOf: a key id, `token:<subject>`). */
  createdBy: z.string(),
});

/** A custom query's answer, and the report when it was saved. */
export const customAnswerSchema = seriesAnswerSchema.extend({ report: savedReportSchema.optional() });
