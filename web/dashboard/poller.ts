/**
 * Polls one route on an interval and tells its panel how fresh its data is: each panel says
 * plainly when its figures are stale (no successful answer for `staleAfterMs`) and why.
 */
import { ApiError } from './api';

export interface Freshness {
  /** Epoch ms of the last successful poll (undefined before the first). */
  lastOk?: number;
  lastError?: string;
  stale: boolean;
}

export class Poller<T> {
  private timer: number | undefined;
  private running = false;
  private lastOk: number | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly onData: (data: T) => void,
    private readonly onFreshness: (freshness: Freshness) => void,
    private readonly staleAfterMs = Math.max(3 * intervalMs, 5000),
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    // A steady rate: the next poll is due one interval after this one started, not after it ended.
    const tick = async () => {
      const started = Date.now();
      await this.poll();
      this.timer = window.setTimeout(tick, Math.max(100, this.intervalMs - (Date.now() - started)));
    };
    void tick();
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Polls now (e.g. after a button changed something); overlapping polls are skipped. */
  async poll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const data = await this.load();
      this.lastOk = Date.now();
      this.lastError = undefined;
      this.onData(data);
    } catch (error) {
      this.lastError = error instanceof ApiError ? error.message : String(error);
    } finally {
      this.running = false;
      this.onFreshness(this.freshness());
    }
  }

  freshness(): Freshness {
    const stale =
      this.lastOk === undefined ? this.lastError !== undefined : Date.now() - this.lastOk > this.staleAfterMs;
    return {
      ...(this.lastOk !== undefined ? { lastOk: this.lastOk } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      stale,
    };
  }
}
