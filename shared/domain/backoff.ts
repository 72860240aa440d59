/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries spread
 * out without ever collapsing to zero. attempt 1 → base, 2 → 2·base, 3 → 4·base … capped at maxMs.
 * `random` is a number in [0, 1) supplied by the caller (tests pass a fixed one).
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
