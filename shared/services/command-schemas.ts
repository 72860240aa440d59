import { z } from 'zod';
import {
  bayesianRequestSchema,
  comprehensiveRequestSchema,
  geographicRequestSchema,
} from '../domain/analysis/schemas';
import { EVENT_TYPE_PATTERN, reservedEventType } from '../domain/cloud-event';
import { FIELD_NAME_PATTERN, FIELD_NAME_RULE, USER_ID_PATTERN, USER_ID_RULE } from '../domain/ids';
import type { JsonValue } from '../ports/document-store';

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

/** The commands `POST /api/operations` accepts and `bridge-commands` carries (the async form of each operation). */
export const commandSchema = z.discriminatedUnion('command', [
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

/** The queue message: an operation id, who asked, and the command. */
export const commandMessageSchema = z.strictObject({
  operationId: z.string().regex(/^op_[a-f0-9]{24}$/),
  actor: actorSchema,
  command: commandSchema,
});
export type CommandMessage = z.output<typeof commandMessageSchema>;
