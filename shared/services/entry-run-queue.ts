import type { LogEntry } from './event-log';
import { Fifo } from './fifo';

/**
 * The live events waiting for one stream, kept as the runs the hub delivered (one array per read,
 * shared by every stream with the same filter) rather than one slot per event and stream: queueing
 * a read costs a stream O(1), however many events it holds.
 */
export class EntryRunQueue {
  private readonly runs = new Fifo<readonly LogEntry[]>();
  /** Entries of the oldest run already taken. */
  private offset = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(run: readonly LogEntry[]): void {
    if (run.length === 0) return;
    this.runs.push(run);
    this.count += run.length;
  }

  shift(): LogEntry | undefined {
    const run = this.runs.at(0);
    if (!run) return undefined;
    const entry = run[this.offset] as LogEntry;
    this.advance(run, 1);
    return entry;
  }

  /**
   * The first `max` entries (all of them when fewer), in order: the delivered array itself when it
   * is exactly what is taken, so streams in step hand out the same array.
   */
  take(max: number): readonly LogEntry[] {
    const first = this.runs.at(0);
    if (!first || max <= 0) return [];
    if (this.offset === 0 && (first.length === max || (first.length < max && this.runs.length === 1))) {
      this.advance(first, first.length);
      return first;
    }
    const taken: LogEntry[] = [];
    for (let run = this.runs.at(0); run && taken.length < max; run = this.runs.at(0)) {
      const n = Math.min(max - taken.length, run.length - this.offset);
      for (let i = 0; i < n; i++) taken.push(run[this.offset + i] as LogEntry);
      this.advance(run, n);
    }
    return taken;
  }

  clear(): void {
    this.runs.clear();
    this.offset = 0;
    this.count = 0;
  }

  private advance(run: readonly LogEntry[], n: number): void {
    this.offset += n;
    this.count -= n;
    if (this.offset >= run.length) {
      this.runs.shift();
      this.offset = 0;
    }
  }
}
