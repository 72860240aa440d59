import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { eventDocId } from '../domain/cloud-event';
import { lockstepBand } from '../domain/lockstep-health';
import type { EventMetrics } from './event-metrics';
import type { OutboxItem } from './event-outbox';
import type { EventPublisher } from './event-publisher';
import type { EventQuarantine } from './event-quarantine';
import { userPartition, type SyncService } from './sync-service';

export const PROBE_USER_ID = 'lockstep-probe';
const RECENT_USERS = 200;
const PROBE_TIMEOUT_MS = 10_000;
/** Quarantined events listed in the status (the count covers all of them). */
const QUARANTINE_SHOWN = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What LockstepService is built from (the composition root passes these). */
export interface LockstepServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  sync: SyncService;
  /** How committed events reach the topic: what is pending, and whether an event is published. */
  propagator: EventPublisher;
  metrics: EventMetrics;
  graceMs: number;
  /** Events set aside; listed (and counted) in the status. */
  quarantine?: EventQuarantine;
}

/**
 * The lockstep monitor (seed lockstep_monitor.py): change-feed lag, propagation latency, and
 * whether each recently changed user's latest state version has been published as an event.
 */
export class LockstepService {
  /** Users changed through this instance, most recent last (bounded). */
  private readonly recentUsers = new Map<string, number>();

  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly sync: SyncService;
  private readonly propagator: EventPublisher;
  private readonly metrics: EventMetrics;
  private readonly graceMs: number;
  private readonly quarantine: EventQuarantine | undefined;

  constructor(deps: LockstepServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.sync = deps.sync;
    this.propagator = deps.propagator;
    this.metrics = deps.metrics;
    this.graceMs = deps.graceMs;
    this.quarantine = deps.quarantine;
  }

  /** Commit hook: remember which users changed, for the consistency check. */
  noteCommitted(items: OutboxItem[]): void {
    for (const item of items) {
      if (!item.pk.startsWith('user:')) continue;
      const userId = item.pk.slice('user:'.length);
      this.recentUsers.delete(userId);
      this.recentUsers.set(userId, item.body.committedAt);
      if (this.recentUsers.size > RECENT_USERS)
        this.recentUsers.delete(this.recentUsers.keys().next().value as string);
    }
  }

  async status() {
    const now = this.clock.now();
    const scan = await this.propagator.pending();
    const inconsistent: { userId: string; stateVersion: number; publishedThrough: 'pending' }[] = [];
    let checked = 0;
    for (const userId of this.recentUsers.keys()) {
      const profile = await this.store.read<{ version: number }>(userPartition(userId), 'profile');
      if (!profile) continue;
      checked += 1;
      const item = { pk: userPartition(userId), docId: eventDocId(profile.body.version) };
      const event = await this.store.read<{ committedAt: number }>(item.pk, item.docId);
      if (!event) continue; // expired past retention: nothing to compare
      if (event.seq === undefined) continue;
      const published = await this.propagator.isPublished({ ...item, seq: event.seq });
      if (!published && now - event.body.committedAt > this.graceMs) {
        inconsistent.push({ userId, stateVersion: profile.body.version, publishedThrough: 'pending' });
      }
    }
    const { propagationMs, published, publishFailures } = this.metrics.snapshot();
    const quarantined = this.quarantine ? await this.quarantine.list(QUARANTINE_SHOWN) : { items: [] };
    const quarantinedCount =
      quarantined.items.length < QUARANTINE_SHOWN || !this.quarantine
        ? quarantined.items.length
        : await this.quarantine.count();
    const oldestPendingAgeMs =
      scan.oldestPendingAt === undefined ? undefined : Math.max(0, now - scan.oldestPendingAt);
    return {
      changeFeed: {
        pendingEvents: scan.pendingEvents,
        oldestPendingAgeMs: oldestPendingAgeMs ?? null,
        scannedEvents: scan.scannedEvents,
      },
      eventTopic: this.propagator.topic,
      propagationMs,
      published,
      publishFailures,
      quarantine: {
        count: quarantinedCount,
        latest: quarantined.items.map(({ id, eventId, type, where, reason, quarantinedAt }) => ({
          id,
          eventId,
          type,
          where,
          reason,
          quarantinedAt,
        })),
      },
      consistency: { checkedUsers: checked, consistent: inconsistent.length === 0, inconsistent },
      health: lockstepBand({
        oldestPendingAgeMs,
        inconsistentUsers: inconsistent.length,
        propagationP95Ms: propagationMs.p95,
        quarantinedEvents: quarantinedCount,
      }),
      checkedAt: new Date(now).toISOString(),
    };
  }

  /** A synthetic admin sync observed through the real event path until the bus has accepted its event. */
  async probe() {
    const started = performance.now();
    const result = await this.sync.sync(
      PROBE_USER_ID,
      { data: { probeAt: new Date(this.clock.now()).toISOString() } },
      'admin',
    );
    const syncLatencyMs = performance.now() - started;
    const docId = eventDocId(result.version);
    const pk = userPartition(PROBE_USER_ID);
    const seq = (await this.store.read(pk, docId))?.seq ?? Number.MAX_SAFE_INTEGER;
    const item = { pk, docId, seq };
    while (!(await this.propagator.isPublished(item))) {
      if (performance.now() - started > PROBE_TIMEOUT_MS) {
        return {
          ok: false,
          version: result.version,
          syncLatencyMs: round(syncLatencyMs),
          propagationLatencyMs: null,
          detail: `event not published within ${PROBE_TIMEOUT_MS} ms`,
        };
      }
      await sleep(2);
    }
    return {
      ok: true,
      version: result.version,
      syncLatencyMs: round(syncLatencyMs),
      propagationLatencyMs: round(performance.now() - started - syncLatencyMs),
    };
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
