import { z } from 'zod';
import { FIELD_NAME_PATTERN, FIELD_NAME_RULE, USER_ID_PATTERN, USER_ID_RULE } from '../../domain/ids';
import type { JsonValue } from '../../domain/json';
import { isSafeBlobPath, BLOB_PATH_RULE } from '../../ports/blob-store';
import { contentRequestSchema } from '../../domain/admin/content-templates';
import { customQuerySchema } from '../../domain/admin/analytics';

/**
 * The inputs of the admin operations (issue 14), shared by the HTTP routes and the queued commands
 * (command-schemas.ts), so both accept exactly the same bodies. Every bound is documented in the
 * README's "Admin operations" section.
 */

const jsonValue = z.json() as z.ZodType<JsonValue>;
export const adminUserIdSchema = z.string().regex(USER_ID_PATTERN, USER_ID_RULE);

/** A profile's data as a sync writes it: 1-500 fields. */
export const profileDataSchema = z
  .record(z.string().regex(FIELD_NAME_PATTERN, FIELD_NAME_RULE), jsonValue)
  .refine((d) => Object.keys(d).length > 0, 'must name at least one field')
  .refine((d) => Object.keys(d).length <= 500, 'may name at most 500 fields');

/** A caller's id for a job, so that sending the same request again creates nothing new. */
export const clientIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1-100 characters: letters, digits, ".", "_", ":", "-"');

/** Ids of admin jobs: bat_, exp_, imp_ and 24 hex digits; rep_ for saved reports. */
export const jobIdSchema = (prefix: 'bat' | 'exp' | 'imp' | 'rep') =>
  z.string().regex(new RegExp(`^${prefix}_[a-f0-9]{24}$`), `must be ${prefix}_ followed by 24 hex digits`);

export const userCreateSchema = z.strictObject({ userId: adminUserIdSchema, data: profileDataSchema });

export const enrichSchema = z.strictObject({ userId: adminUserIdSchema });

export const exportCreateSchema = z.strictObject({
  /** Also write the events still within retention (BRIDGE_EVENT_RETENTION_DAYS). */
  includeEvents: z.boolean().optional(),
  clientId: clientIdSchema.optional(),
});

/** Import from a file of the files store (`path`) or an export (`exportId`): exactly one of them. */
export const importRequestSchema = z.strictObject({
  /** A file in the files store (an export, or one uploaded with PUT /api/files/{path}). */
  path: z.string().refine(isSafeBlobPath, BLOB_PATH_RULE).optional(),
  /** Or the export to import, by id. */
  exportId: jobIdSchema('exp').optional(),
  clientId: clientIdSchema.optional(),
});
export const importCreateSchema = importRequestSchema.refine(
  (b) => (b.path === undefined) !== (b.exportId === undefined),
  { message: 'name exactly one of path and exportId', path: ['path'] },
);

export const generateContentSchema = contentRequestSchema;
export const analyticsCustomSchema = customQuerySchema;

const isoTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z',
});

/** GET /api/admin/users query string (strings in). */
export const userListQuerySchema = z
  .object({
    /** Case-insensitive substring of a name, email or job-title field (1-100 characters). */
    q: z.string().trim().min(1).max(100).optional(),
    /** userId prefix. */
    idPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._@-]{1,128}$/, 'must be 1-128 letters, digits, ".", "_", "@", "-"')
      .optional(),
    createdAfter: isoTime.optional(),
    createdBefore: isoTime.optional(),
    updatedAfter: isoTime.optional(),
    updatedBefore: isoTime.optional(),
    /** A profile field that must equal `value`. */
    field: z.string().regex(FIELD_NAME_PATTERN, FIELD_NAME_RULE).optional(),
    value: z.string().max(200).optional(),
    /** How `value` is compared: as a string (default), a number or a boolean. */
    valueType: z.enum(['string', 'number', 'boolean']).optional(),
    sort: z.enum(['userId', 'createdAt', 'updatedAt']).optional(),
    order: z.enum(['asc', 'desc']).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 100, 'must be a whole number from 1 to 100')
      .optional(),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,2000}$/, 'must be a cursor returned by an earlier page')
      .optional(),
  })
  .superRefine((q, ctx) => {
    if ((q.field === undefined) !== (q.value === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: 'field and value go together' });
    }
    if (q.valueType === 'number' && q.value !== undefined && !Number.isFinite(Number(q.value))) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be a number when valueType is number' });
    }
    if (q.valueType === 'boolean' && q.value !== undefined && q.value !== 'true' && q.value !== 'false') {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: 'must be true or false when valueType is boolean',
      });
    }
  });
export type UserListQuery = z.output<typeof userListQuerySchema>;
