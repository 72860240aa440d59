import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long a computation may hold the event loop before it lets other work run. Small enough that
 * a concurrent request (a health check, another user's sync) waits at most about this long behind
 * a heavy one, large enough that pausing costs little (one macrotask turn per slice).
 */
export const SLICE_MS = 8;

/**
 * Runs a step generator (see domain/steps.ts), pausing for one event-loop turn whenever a slice of
 * SLICE_MS has passed: CPU-heavy requests interleave with everything else instead of stalling it.
 */
export async function runCooperatively<T>(steps: Generator<unknown, T>, sliceMs = SLICE_MS): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

/** The same for a plain loop: `await pacer.pause()` between items. */
export class Pacer {
  private sliceStart = performance.now();
  constructor(private readonly sliceMs = SLICE_MS) {}

  async pause(): Promise<void> {
    if (performance.now() - this.sliceStart < this.sliceMs) return;
    await nextTurn();
    this.sliceStart = performance.now();
  }
}
