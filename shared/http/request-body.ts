import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import {
  MAX_JSON_DEPTH,
  findReservedKeys,
  jsonTextTooDeep,
  mayContainReservedKeys,
} from '../domain/json-safety';
import { ProblemError } from './problem-error';
import { validationProblem, zodIssuesToErrors } from './validation';

function tooLarge(maxBytes: number): ProblemError {
  return new ProblemError({
    status: 413,
    type: 'payload-too-large',
    title: 'Payload too large',
    detail: `The request body exceeds the limit of ${maxBytes} bytes.`,
  });
}

export function tooDeep(what = 'The request body'): ProblemError {
  return new ProblemError({
    status: 400,
    type: 'json-too-deep',
    title: 'JSON nested too deeply',
    detail: `${what} nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`,
    maxDepth: MAX_JSON_DEPTH,
  });
}

/**
 * Reads a JSON body and validates it: 415 for a non-JSON content type, 413 beyond `maxBytes`,
 * 400 for malformed JSON, prototype-polluting keys or a body the schema refuses.
 */
export async function readJsonBody<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  maxBytes: number,
  options: { allowEmpty?: boolean } = {},
): Promise<z.output<S>> {
  const contentType = request.headers.get('content-type');
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = await request.text();
  // A body must say it is JSON; only a body that is left out may come without a content type.
  if (
    contentType === null
      ? text.length > 0
      : !/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType.trim())
  ) {
    throw new ProblemError({
      status: 415,
      type: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail: `Expected application/json, got ${contentType ?? 'no content-type'}.`,
    });
  }
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw tooLarge(maxBytes);
  // An optional body may be left out entirely; it then means "{}".
  return parseJsonText(options.allowEmpty && text.trim() === '' ? '{}' : text, schema);
}

export function parseJsonText<S extends z.ZodType>(text: string, schema: S): z.output<S> {
  if (text.trim() === '') {
    throw new ProblemError({
      status: 400,
      type: 'malformed-json',
      title: 'Malformed JSON',
      detail: 'The request body is empty.',
    });
  }
  // Before anything recursive (validation, key checks) sees the value: a counter over the raw text.
  if (jsonTextTooDeep(text)) throw tooDeep();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProblemError({
      status: 400,
      type: 'malformed-json',
      title: 'Malformed JSON',
      detail: `The request body is not valid JSON: ${(error as Error).message}`,
    });
  }
  if (mayContainReservedKeys(text)) {
    const reserved = findReservedKeys(value);
    if (reserved.length > 0) {
      throw validationProblem(
        reserved.map((path) => ({ path, message: 'reserved key name is not allowed' })),
      );
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationProblem(zodIssuesToErrors(parsed.error.issues));
  return parsed.data;
}
