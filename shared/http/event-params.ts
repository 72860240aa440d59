import { z } from 'zod';
import { EVENT_TYPE_PATTERN } from '../domain/cloud-event';
import { MAX_CURSOR_LENGTH } from '../domain/event-cursor';

/** At most this many event types in one filter. */
export const MAX_FILTER_TYPES = 50;
const TYPES_RULE = `must be 1-${MAX_FILTER_TYPES} comma-separated event types`;

/** `types=a,b`: event types to keep. */
export const eventTypesQuery = z
  .string()
  .max(MAX_FILTER_TYPES * 101)
  .transform((text) =>
    text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  )
  .refine(
    (types) =>
      types.length > 0 && types.length <= MAX_FILTER_TYPES && types.every((t) => EVENT_TYPE_PATTERN.test(t)),
    TYPES_RULE,
  );

/** `after=`: a replay cursor (its form is checked by the event log, which knows the store's kind). */
export const cursorQuery = z
  .string()
  .min(1)
  .max(MAX_CURSOR_LENGTH, `must be at most ${MAX_CURSOR_LENGTH} characters`);

/** `subject=`: the subject events must have (a user id, a state key, …). */
export const subjectQuery = z.string().min(1).max(255, 'must be 1-255 characters');
