import { ServiceError } from './errors';

export interface WriteAdmissionOptions {
  /** Events waiting for their consumers; at or above this, new writes wait. */
  backlogMax: number;
  /** How long a write waits for room before it is refused (503 with Retry-After). */
  waitMs: number;
}

/**
 * Backpressure for event-producing writes: while the event backlog (committed events their
 * consumers have not taken yet) is at its bound, a new write waits for room, in arrival order, and
 * is refused with 503 + Retry-After if none comes within `waitMs`. Writers therefore slow down to
 * the pace at which events are delivered, instead of the backlog (and with it lag and memory)
 * growing without bound. The backlog's owner calls `progress()` whenever it shrinks.
 */
export class WriteAdmission {
  private readonly waiting: { admit: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly backlog: () => number,
    private readonly options: WriteAdmissionOptions,
  ) {}

  /** Resolves when the write may go ahead; rejects with ServiceError 'unavailable' after waitMs. */
  admit(): Promise<void> {
    if (this.waiting.length === 0 && this.backlog() < this.options.backlogMax) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry = {
        admit: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(
            new ServiceError(
              'unavailable',
              `Events are being delivered more slowly than they are written (${this.backlog()} waiting); retry shortly.`,
              undefined,
              { retryAfterSeconds: 1 },
            ),
          );
        }, this.options.waitMs),
      };
      entry.timer.unref();
      this.waiting.push(entry);
    });
  }

  /** The backlog shrank: lets as many waiting writes through as there is room for. */
  progress(): void {
    let room = this.options.backlogMax - this.backlog();
    while (room > 0 && this.waiting.length > 0) {
      this.waiting.shift()?.admit();
      room -= 1;
    }
  }

  /** Writes waiting for room now. */
  get waitingWrites(): number {
    return this.waiting.length;
  }
}
