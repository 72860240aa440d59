import type { Problem } from './http-response';

/** Thrown inside a handler to answer with a problem response. */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
}

export const unauthorized = (detail: string) =>
  new ProblemError(
    { status: 401, type: 'unauthorized', title: 'Unauthorized', detail },
    { 'www-authenticate': 'ApiKey header="x-api-key"' },
  );

export const forbidden = (detail: string) =>
  new ProblemError({ status: 403, type: 'forbidden', title: 'Forbidden', detail });
