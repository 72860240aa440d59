import type { z } from 'zod';
import type { FieldError } from '../services/errors';
import { ProblemError } from './problem-error';

/** JSON Pointer for a zod issue path, e.g. ["data","role"] → "/data/role". */
export function toPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function zodIssuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): FieldError[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    // A body that fits none of a union's forms: the errors of the closest form (fewest issues).
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
      if (closest.length > 0) return zodIssuesToErrors(closest, path);
    }
    // A record key that fails its own schema reports "Invalid key in record"; the inner issue says why.
    const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
    return [{ path: toPointer(path), message: inner ?? issue.message }];
  });
}

export function validationProblem(errors: FieldError[], detail = 'The request is not valid.'): ProblemError {
  return new ProblemError({ status: 400, type: 'validation', title: 'Validation failed', detail, errors });
}

/** A route or query parameter checked against its rule; 400 naming the parameter otherwise. */
export function checkedParam(
  value: string | undefined | null,
  name: string,
  pattern: RegExp,
  rule: string,
): string {
  if (value === undefined || value === null || !pattern.test(value)) {
    throw validationProblem([{ path: name, message: rule }], `Invalid ${name}.`);
  }
  return value;
}
