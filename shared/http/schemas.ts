import { z } from 'zod';
import { FIELD_NAME_PATTERN, FIELD_NAME_RULE } from '../domain/ids';
import { ROLES } from '../services/principal';
import { SCOPES, type Scope } from '../services/scopes';
import type { JsonValue } from '../ports/document-store';
import { eventTypeSchema } from '../services/command-schemas';
import { MAX_EVENTS_PER_BATCH } from '../domain/webhook-batching';

export { commandSchema, publishBodySchema } from '../services/command-schemas';

/**
 * A JSON value. Bodies reach these schemas from JSON.parse (see request-body.ts), so every value in
 * them is JSON already: z.json() would only walk each value again (measurably, on the sync route).
 */
const jsonValue = z.custom<JsonValue>(() => true);

export const syncBodySchema = z.strictObject({
  data: z
    .record(z.string().regex(FIELD_NAME_PATTERN, FIELD_NAME_RULE), jsonValue)
    .refine((d) => Object.keys(d).length > 0, 'must name at least one field')
    .refine((d) => Object.keys(d).length <= 500, 'may name at most 500 fields'),
  baseVersion: z.number().int().min(0).optional(),
});

export const statePutSchema = z.strictObject({
  value: jsonValue,
  ttlSeconds: z.number().int().min(1).max(31_536_000).optional(),
});

export const keyCreateSchema = z.strictObject({
  role: z.enum(ROLES as [string, ...string[]]).transform((r) => r as (typeof ROLES)[number]),
  name: z.string().trim().min(1).max(100),
  /** Route groups the key may call (shared/services/scopes.ts); left out = its role's full reach. */
  scopes: z
    .array(z.enum(SCOPES as [Scope, ...Scope[]], `must be one of ${SCOPES.join(', ')}`))
    .min(1)
    .max(SCOPES.length)
    .optional(),
  /** When it stops working (RFC 3339 with an offset); must be in the future, at most 10 years ahead. */
  expiresAt: z.iso
    .datetime({ offset: true, error: 'must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z' })
    .optional(),
});

export const subscriptionCreateSchema = z.strictObject({
  eventTypes: z.array(eventTypeSchema).min(1).max(50),
  url: z.string().min(1).max(2000),
  /** Batched delivery (CloudEvents batched mode): up to this many events per POST, as a JSON array. */
  maxEventsPerBatch: z.number().int().min(1).max(MAX_EVENTS_PER_BATCH).optional(),
});

/** POST /subscriptions/{id}/recover: re-send what was committed since this time (within the event retention). */
export const recoverSchema = z.strictObject({
  since: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time, e.g. 2026-11-30T09:00:00Z' }),
});

export const redeliverSchema = z.strictObject({
  ids: z.array(z.string().min(1).max(300)).min(1).max(1000).optional(),
});
