/**
 * Long pure computations are written as generators that yield between small steps, so a caller on
 * an event loop can pause between them (services/cooperative.ts) while tests and scripts simply run
 * them to the end. A step is a point where pausing is safe, not a unit of time.
 */
export function runToEnd<T>(steps: Generator<unknown, T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}
