import fc from 'fast-check';
import { backoffDelayMs } from '../../../shared/domain/backoff';

describe('backoffDelayMs (exponential, equal jitter)', () => {
  it('doubles from the base per attempt: half fixed, half scaled by the random number', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(a, 100, 60_000, 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(a, 100, 60_000, 0.5))).toEqual([75, 150, 300, 600]);
    expect(backoffDelayMs(3, 100, 60_000, 0.999999)).toBe(400);
  });

  it('caps the ceiling at maxMs', () => {
    expect(backoffDelayMs(20, 100, 5_000, 0)).toBe(2_500);
    expect(backoffDelayMs(20, 100, 5_000, 0.999999)).toBe(5_000);
    expect(backoffDelayMs(1, 10_000, 5_000, 0)).toBe(2_500); // a base above the cap is capped too
  });

  it('treats attempts below 1 as the first', () => {
    expect(backoffDelayMs(0, 100, 60_000, 0)).toBe(50);
    expect(backoffDelayMs(-3, 100, 60_000, 0)).toBe(50);
  });

  it('stays within [ceiling/2, ceiling], never zero for a positive base, and grows with the attempt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, max, random) => {
          const ceiling = Math.min(max, base * 2 ** (attempt - 1));
          const delay = backoffDelayMs(attempt, base, max, random);
          expect(delay).toBeGreaterThanOrEqual(Math.round(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.round(ceiling));
          expect(delay).toBeGreaterThan(0);
          expect(backoffDelayMs(attempt + 1, base, max, random)).toBeGreaterThanOrEqual(delay);
        },
      ),
    );
  });
});
