import { z } from 'zod';
import {
  RECORD_ID_PATTERN,
  RECORD_ID_RULE,
  STATE_KEY_PATTERN,
  STATE_KEY_RULE,
  USER_ID_PATTERN,
  USER_ID_RULE,
} from '../domain/ids';
import { BLOB_PATH_RULE, isSafeBlobPath } from '../ports/blob-store';
import { SECRET_NAME_PATTERN, SECRET_NAME_RULE } from '../ports/secret-store';
import { QUARANTINE_ID_PATTERN } from '../services/event-quarantine';

/**
 * Reusable schemas for path parameters (and the ids that also arrive in bodies and query strings).
 * Every `{param}` of every route is checked with one of these before its handler runs: a value
 * outside its form is a 400 `validation` problem naming the parameter, never a store error.
 */

export const userIdParam = z.string().regex(USER_ID_PATTERN, USER_ID_RULE);
export const stateKeyParam = z.string().regex(STATE_KEY_PATTERN, STATE_KEY_RULE);
export const recordIdParam = z.string().regex(RECORD_ID_PATTERN, RECORD_ID_RULE);
export const subscriptionIdParam = recordIdParam;
export const operationIdParam = recordIdParam;
export const apiKeyIdParam = recordIdParam;
export const deadLetterIdParam = recordIdParam;
/** A quarantine entry's id (GET /api/events/quarantine lists them). */
export const quarantineIdParam = z
  .string()
  .regex(QUARANTINE_ID_PATTERN, 'must be an id listed by GET /api/events/quarantine');
export const secretNameParam = z.string().regex(SECRET_NAME_PATTERN, SECRET_NAME_RULE);
/** A job title as typed by a person: trimmed, 1-200 characters. */
export const titleParam = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');
/** A file path under /api/files/: safe segments (the role check is the file service's). */
export const filePathParam = z.string().refine(isSafeBlobPath, BLOB_PATH_RULE);

/** A whole number in a query string, e.g. `?limit=50`. */
export function intQuery(min: number, max: number) {
  const rule = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d{1,10}$/, rule)
    .transform(Number)
    .refine((n) => n >= min && n <= max, rule);
}
