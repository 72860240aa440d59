import { z } from 'zod';
import { MAX_USAGE_RANGE_DAYS } from '../services/usage-service';
import { validationProblem } from './validation';

const TIME_RULE = 'must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z';

/** `?from=&to=` of the usage routes (RFC 3339 times). */
export const usageRangeQuery = {
  from: z.iso.datetime({ offset: true, error: TIME_RULE }).optional(),
  to: z.iso.datetime({ offset: true, error: TIME_RULE }).optional(),
};

/** The range asked for: by default the 24 hours up to now; at most MAX_USAGE_RANGE_DAYS long. */
export function usageRangeOf(
  query: { from?: string; to?: string },
  now: number,
): { from: number; to: number } {
  const to = query.to === undefined ? now : Date.parse(query.to);
  const from = query.from === undefined ? to - 86_400_000 : Date.parse(query.from);
  if (from > to)
    throw validationProblem([{ path: 'from', message: 'must not be after to' }], 'Invalid from.');
  if (to - from > MAX_USAGE_RANGE_DAYS * 86_400_000) {
    throw validationProblem(
      [{ path: 'from', message: `the range may span at most ${MAX_USAGE_RANGE_DAYS} days` }],
      'Invalid from.',
    );
  }
  return { from, to };
}
