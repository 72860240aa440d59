/**
 * The embedded bus's wake-up notifications: in-process listeners per receivable entity, told
 * "there is something to receive" on a later turn of the event loop (coalesced: once per turn
 * however many messages arrived) after a send, abandon or resubmit, and when a scheduled, delayed
 * or lock-expired message becomes visible (one unref'd timer for the earliest such time).
 *
 * Only notifications are per process: a listener hears about its own process's sends and
 * settlements, about what is already waiting when it subscribes, and about future visibility times
 * its process wrote or saw when it subscribed.
 */
import type { Clock } from '../../ports/clock';
import type { Receivable } from './embedded-bus-entities';

const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export class AvailabilityNotifier {
  private readonly listeners = new Map<Receivable, Set<() => void>>();
  private readonly pending = new Set<Receivable>();
  private flushHandle: NodeJS.Immediate | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  /** Visibility up to this time has been announced to listeners. */
  private announcedUpTo: number;
  private closed = false;

  constructor(private readonly clock: Clock) {
    this.announcedUpTo = clock.now();
  }

  /** Whether anyone listens to the entity (so a future visibility time is worth a timer). */
  has(entity: Receivable): boolean {
    return this.listeners.has(entity);
  }

  /**
   * Adds a listener; if messages are receivable already it hears so soon, and a future visibility
   * time arms the timer. Returns the unsubscribe function.
   */
  listen(entity: Receivable, listener: () => void): () => void {
    let set = this.listeners.get(entity);
    if (!set) {
      set = new Set();
      this.listeners.set(entity, set);
    }
    const own = () => listener();
    set.add(own);
    const now = this.clock.now();
    if (entity.receivable.anyVisible.get(now) !== undefined) this.announce(entity);
    const next = entity.receivable.nextVisibleAfter.get(now) as number | null;
    if (next !== null) this.armWake(next);
    return () => {
      const current = this.listeners.get(entity);
      if (!current?.delete(own)) return;
      if (current.size === 0) this.listeners.delete(entity);
    };
  }

  /** Messages became receivable in the entity: its listeners hear so on a later turn. */
  announce(entity: Receivable): void {
    if (!this.listeners.has(entity)) return;
    this.pending.add(entity);
    this.flushHandle ??= setImmediate(this.flush);
  }

  /** A message of the entity becomes receivable at `at` (only worth a timer if someone listens). */
  visibleAt(entity: Receivable, at: number): void {
    if (this.listeners.has(entity)) this.armWake(at);
  }

  close(): void {
    this.closed = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.flushHandle) clearImmediate(this.flushHandle);
    this.wakeTimer = undefined;
    this.flushHandle = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
    this.listeners.clear();
    this.pending.clear();
  }

  private readonly flush = (): void => {
    this.flushHandle = undefined;
    const entities = [...this.pending];
    this.pending.clear();
    let failure: { error: unknown } | undefined;
    for (const entity of entities) {
      for (const listener of [...(this.listeners.get(entity) ?? [])]) {
        try {
          listener();
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    // Every listener ran; a listener's own bug still surfaces (as an uncaught exception).
    if (failure) throw failure.error;
  };

  /** One timer, for the earliest future visibility any listened-to entity is waiting for. */
  private armWake(at: number): void {
    if (at >= this.wakeAt || this.closed) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    const delay = Math.min(Math.max(at - this.clock.now(), 0), MAX_TIMER_DELAY_MS);
    this.wakeTimer = setTimeout(this.wake, delay);
    this.wakeTimer.unref();
  }

  private readonly wake = (): void => {
    this.wakeTimer = undefined;
    this.wakeAt = Number.POSITIVE_INFINITY;
    if (this.closed) return;
    try {
      const now = this.clock.now();
      const since = Math.min(this.announcedUpTo, now);
      this.announcedUpTo = now;
      let next = Number.POSITIVE_INFINITY;
      for (const entity of this.listeners.keys()) {
        const statements = entity.receivable;
        if (statements.becameVisible.get(since, now) !== undefined) this.announce(entity);
        const at = statements.nextVisibleAfter.get(now) as number | null;
        if (at !== null && at < next) next = at;
      }
      if (next !== Number.POSITIVE_INFINITY) this.armWake(next);
    } catch {
      // A transient read failure: look again shortly rather than never.
      this.armWake(this.clock.now() + 1000);
    }
  };
}
