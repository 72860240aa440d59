import { z } from 'zod';
import {
  bayesianRequestSchema,
  comprehensiveRequestSchema,
  geographicRequestSchema,
} from '../domain/analysis/schemas';
import { EVENT_TYPE_PATTERN, reservedEventType } from '../domain/cloud-event';
import { FIELD_NAME_PATTERN, FIELD_NAME_RULE, USER_ID_PATTERN, USER_ID_RULE } from '../domain/ids';
import type { JsonValue } from '../ports/document-store';
import { contentRequestSchema } from '../domain/admin/content-templates';
import {
  clientIdSchema,
  enrichSchema,
  exportCreateSchema,
  importRequestSchema,
  userCreateSchema,
} from './admin/admin-schemas';

const jsonValue = z.json() as z.ZodType<JsonValue>;
export const userIdSchema = z.string().regex(USER_ID_PATTERN, USER_ID_RULE);
export const eventTypeSchema = z
  .string()
  .regex(
    EVENT_TYPE_PATTERN,
    'must be 1-100 characters: letters, digits, "_", ".", "-", starting with a letter',
  );
export const clientEventIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, 'must be 1-100 characters: letters, digits, ".", "_", ":", "-"');

export const syncDataSchema = z
  .record(z.string().regex(FIELD_NAME_PATTERN, FIELD_NAME_RULE), jsonValue)
  .refine((d) => Object.keys(d).length > 0, 'must name at least one field')
  .refine((d) => Object.keys(d).length <= 500, 'may name at most 500 fields');

/** A type a portal may publish: any event type except those the bridge emits (any case). */
export const publishableEventTypeSchema = eventTypeSchema.superRefine((type, ctx) => {
  const reserved = reservedEventType(type);
  if (reserved)
    ctx.addIssue({ code: 'custom', message: `${type} is reserved: the bridge emits ${reserved} itself` });
});

export const publishBodySchema = z.strictObject({
  type: publishableEventTypeSchema,
  data: jsonValue,
  subject: z.string().min(1).max(200).optional(),
  id: clientEventIdSchema.optional(),
});

/** Operations that only an admin key may queue (POST /api/operations answers 400 for another key). */
export const ADMIN_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'delete_user',
  'create_user',
  'enrich_user',
  'generate_content',
  'export_users',
  'import_users',
  'create_batch',
]);

/** The most operations one batch may hold whatever BRIDGE_ADMIN_BATCH_MAX_ITEMS says (the schema's own bound). */
export const BATCH_ITEMS_CEILING = 10_000;

/** The commands a batch item may be: every single operation (not the jobs: batches, exports, imports). */
export const batchItemSchema = z.discriminatedUnion('command', [
  z.strictObject({
    command: z.literal('sync_user_data'),
    userId: userIdSchema,
    data: syncDataSchema,
    baseVersion: z.number().int().min(0).optional(),
  }),
  publishBodySchema.extend({ command: z.literal('publish_event') }),
  z.strictObject({ command: z.literal('delete_user'), userId: userIdSchema }),
  comprehensiveRequestSchema.extend({
    command: z.literal('comprehensive_analysis'),
    userId: userIdSchema.optional(),
  }),
  geographicRequestSchema.extend({ command: z.literal('geographic_analysis') }),
  bayesianRequestSchema.extend({ command: z.literal('bayesian_inference') }),
  userCreateSchema.extend({ command: z.literal('create_user') }),
  enrichSchema.extend({ command: z.literal('enrich_user') }),
  z
    .strictObject({
      command: z.literal('generate_content'),
      kind: z.enum(contentRequestSchema.options.map((o) => o.shape.kind.value) as [string, ...string[]]),
      input: z.record(z.string(), jsonValue),
    })
    // The input is checked against its kind's schema (the same as POST /api/admin/ai/content/generate).
    .superRefine((c, ctx) => {
      const parsed = contentRequestSchema.safeParse({ kind: c.kind, input: c.input });
      if (!parsed.success)
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom' });
    }),
]);
export type BatchItemCommand = z.output<typeof batchItemSchema>;

export const batchCreateSchema = z.strictObject({
  operations: z.array(batchItemSchema).min(1).max(BATCH_ITEMS_CEILING),
  clientId: clientIdSchema.optional(),
  /** Items in flight at once (default and maximum: BRIDGE_ADMIN_BATCH_CONCURRENCY). */
  concurrency: z.number().int().min(1).max(64).optional(),
});

/** The commands `POST /api/operations` accepts and `bridge-commands` carries (the async form of each operation). */
export const commandSchema = z.discriminatedUnion('command', [
  ...batchItemSchema.options,
  batchCreateSchema.extend({ command: z.literal('create_batch') }),
  exportCreateSchema.extend({ command: z.literal('export_users') }),
  importRequestSchema.extend({ command: z.literal('import_users') }),
]);
export type Command = z.output<typeof commandSchema>;

/** Who asked (principal.ts PrincipalRef): a key (`kind` absent in messages older than tokens), a token or an end user. */
export const actorSchema = z.union([
  z.strictObject({
    kind: z.literal('key').optional(),
    role: z.enum(['admin', 'user', 'service']),
    keyId: z.string().min(1).max(100),
  }),
  z.strictObject({ kind: z.literal('token'), role: z.enum(['admin', 'service']), subject: userIdSchema }),
  z.strictObject({ kind: z.literal('end-user'), role: z.literal('user'), userId: userIdSchema }),
]);

/** The batch an operation belongs to, when it is a batch item. */
export const batchRefSchema = z.strictObject({
  id: z.string().regex(/^bat_[a-f0-9]{24}$/),
  index: z.number().int().min(0).max(BATCH_ITEMS_CEILING),
});
export type BatchRef = z.output<typeof batchRefSchema>;

/** The queue message: an operation id, who asked, and the command (and its batch, for a batch item). */
export const commandMessageSchema = z.strictObject({
  operationId: z.string().regex(/^op_[a-f0-9]{24}$/),
  actor: actorSchema,
  command: commandSchema,
  batch: batchRefSchema.optional(),
});
export type CommandMessage = z.output<typeof commandMessageSchema>;

/** A job message: run (or continue) an admin job — a batch's dispatcher, an export, an import. */
export const jobMessageSchema = z.strictObject({
  job: z.strictObject({
    kind: z.enum(['batch', 'export', 'import']),
    id: z.string().regex(/^(bat|exp|imp)_[a-f0-9]{24}$/),
  }),
  actor: actorSchema,
});
export type JobMessage = z.output<typeof jobMessageSchema>;
