import { z } from 'zod';
import { FIELD_NAME_PATTERN, FIELD_NAME_RULE, RESERVED_KEYS, USER_ID_PATTERN, USER_ID_RULE } from '../ids';
import type { JsonValue } from '../json';

/**
 * The export file format (gzip NDJSON, one JSON object per line) and the check of each line an
 * import reads. The first line is a header; then one line per user; then, when asked, one line per
 * event still within retention:
 *
 *   {"kind":"header","format":"portal-bridge-users","version":1,"exportedAt":"…","includeEvents":false}
 *   {"kind":"user","userId":"ann","data":{…},"version":3,"createdAt":"…","updatedAt":"…"}
 *   {"kind":"event","event":{…CloudEvent…}}
 *
 * An import applies `user` lines (their `data`, as an admin sync) and skips header and event lines.
 * A hand-written file may hold just `{"userId":"ann","data":{…}}` lines (kind defaults to user).
 */

export const EXPORT_FORMAT = 'portal-bridge-users';
export const EXPORT_VERSION = 1;
/** The longest line an import reads; a longer one is rejected (the rest of it skipped). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Deepest nesting of a line's JSON. */
export const MAX_LINE_DEPTH = 32;

const jsonValue = z.json() as z.ZodType<JsonValue>;

export const userLineSchema = z.object({
  kind: z.literal('user').optional(),
  userId: z.string().regex(USER_ID_PATTERN, USER_ID_RULE),
  data: z
    .record(z.string().regex(FIELD_NAME_PATTERN, FIELD_NAME_RULE), jsonValue)
    .refine((d) => Object.keys(d).length > 0, 'must name at least one field')
    .refine((d) => Object.keys(d).length <= 500, 'may name at most 500 fields'),
  // Written by exports; informative on import (the target keeps its own versions and times).
  version: z.number().int().min(0).optional(),
  createdAt: z.string().max(40).optional(),
  updatedAt: z.string().max(40).optional(),
});

export type ImportLine =
  | { kind: 'user'; userId: string; data: Record<string, JsonValue> }
  | { kind: 'skip'; reason: string }
  | { kind: 'reject'; reason: string };

function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, d);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

function hasReservedKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    for (const [key, child] of Object.entries(v)) {
      if (RESERVED_KEYS.has(key)) return true;
      stack.push(child);
    }
  }
  return false;
}

/** Checks one line of an import file: a user to apply, a line to skip, or a rejection with its reason. */
export function parseImportLine(text: string): ImportLine {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'skip', reason: 'empty line' };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return { kind: 'reject', reason: `not JSON: ${(error as Error).message.slice(0, 200)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'reject', reason: 'not a JSON object' };
  }
  if (depthOf(value, MAX_LINE_DEPTH) > MAX_LINE_DEPTH) {
    return { kind: 'reject', reason: `nested deeper than ${MAX_LINE_DEPTH} levels` };
  }
  if (hasReservedKey(value)) return { kind: 'reject', reason: 'names __proto__, constructor or prototype' };
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'header') {
    const format = (value as { format?: unknown }).format;
    return format === EXPORT_FORMAT
      ? { kind: 'skip', reason: 'header' }
      : { kind: 'reject', reason: `unknown format ${JSON.stringify(format)}` };
  }
  if (kind === 'event') return { kind: 'skip', reason: 'events are not imported' };
  if (kind !== undefined && kind !== 'user')
    return { kind: 'reject', reason: `unknown kind ${JSON.stringify(kind)}` };
  const parsed = userLineSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`)
      .join('; ');
    return { kind: 'reject', reason: first };
  }
  return { kind: 'user', userId: parsed.data.userId, data: parsed.data.data };
}
