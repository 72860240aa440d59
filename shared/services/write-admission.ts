import { ServiceError } from './errors';

export interface WriteAdmissionOptions {
  /** Events waiting for their consumers; at or above this, new writes wait. */
  backlogMax: number;
  /** Age of the oldest event still waiting for a consumer; above this, new writes wait. */
  lagMaxMs: number;
  /** How long a write waits for room before it is refused (503 with Retry-After). */
  waitMs: number;
}

/** What the event pipeline reports about its backlog. */
export interface EventPressure {
  /** Events committed but not yet taken by their consumers. */
  backlog(): number;
  /** How long the oldest of them has been waiting, ms (0 when none waits). */
  lagMs(): number;
}

/**
 * Backpressure for event-producing writes. While the events already committed wait too long for
 * their consumers (the oldest is older than `lagMaxMs`) or too many wait (`backlogMax`), a new
 * write waits, in arrival order, and is refused with 503 + Retry-After if no room comes within
 * `waitMs`. Writers therefore slow to the pace at which events are delivered, and lag and memory
 * stay bounded instead of growing with the write rate. The pipeline calls `progress()` whenever
 * its backlog shrinks.
 */
export class WriteAdmission {
  private readonly waiting: { admit: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly pressure: EventPressure,
    private readonly options: WriteAdmissionOptions,
  ) {}

  /** Resolves when the write may go ahead; rejects with ServiceError 'unavailable' after waitMs. */
  admit(): Promise<void> {
    if (this.waiting.length === 0 && this.hasRoom()) return Promise.resolve();
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
              `Events are being delivered more slowly than they are written (${this.pressure.backlog()} waiting, ` +
                `the oldest for ${Math.round(this.pressure.lagMs())} ms); retry shortly.`,
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

  /** The backlog shrank: lets waiting writes through while there is room. */
  progress(): void {
    if (this.waiting.length === 0 || !this.hasRoom()) return;
    let room = this.options.backlogMax - this.pressure.backlog();
    while (room > 0 && this.waiting.length > 0) {
      this.waiting.shift()?.admit();
      room -= 1;
    }
  }

  /** Writes waiting for room now. */
  get waitingWrites(): number {
    return this.waiting.length;
  }

  private hasRoom(): boolean {
    return (
      this.pressure.backlog() < this.options.backlogMax && this.pressure.lagMs() <= this.options.lagMaxMs
    );
  }
}
