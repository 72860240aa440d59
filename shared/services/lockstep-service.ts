import { CronExpressionParser } from 'cron-parser';
import type { Clock } from '../ports/clock';
import { isStoreError, type DocumentCollection } from '../ports/document-store';
import { eventDocId } from '../domain/cloud-event';
import { lockstepBand } from '../domain/lockstep-health';
import type { EventMetrics } from './event-metrics';
import type { OutboxItem } from './event-outbox';
import type { EventPublisher } from './event-publisher';
import type { EventQuarantine } from './event-quarantine';
import { userPartition, type SyncService } from './sync-service';

export const PROBE_USER_ID = 'lockstep-probe';
/** Where the lockstep-monitor timer records its runs (one document, the newest MONITOR_HISTORY runs). */
export const MONITOR_PARTITION = 'lockstep:monitor';
export const MONITOR_DOC_ID = 'runs';
export const MONITOR_HISTORY = 60;
/** How many of the recorded runs lockstep status shows. */
const MONITOR_SHOWN = 10;
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
  /** The lockstep-monitor timer's settings, reported with its runs. */
  monitor?: { enabled: boolean; schedule: string };
}

/** One run of the lockstep-monitor timer: the probe's result and the health it saw then. */
export interface MonitorRun {
  at: string;
  ok: boolean;
  syncLatencyMs: number;
  propagationLatencyMs: number | null;
  detail?: string;
  health: string;
  pendingEvents: number;
  /** The instance that ran it. */
  instanceId: string;
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
  private readonly monitor: { enabled: boolean; schedule: string };

  constructor(deps: LockstepServiceDeps) {
    this.monitor = deps.monitor ?? { enabled: false, schedule: '' };
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

  /** The lockstep monitor's figures now, with the monitor timer's recent runs. */
  async status() {
    const figures = await this.figures();
    return { ...figures, monitor: await this.monitorRuns() };
  }

  private async figures() {
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

  /**
   * One run of the lockstep-monitor timer: the probe, then the health it leaves, recorded in the
   * store (the newest MONITOR_HISTORY runs) so every instance's lockstep status shows it.
   */
  async runMonitor(instanceId: string): Promise<MonitorRun> {
    const probe = await this.probe();
    const figures = await this.figures();
    const run: MonitorRun = {
      at: new Date(this.clock.now()).toISOString(),
      ok: probe.ok,
      syncLatencyMs: probe.syncLatencyMs,
      propagationLatencyMs: probe.propagationLatencyMs,
      ...('detail' in probe && probe.detail ? { detail: probe.detail } : {}),
      health: figures.health,
      pendingEvents: figures.changeFeed.pendingEvents,
      instanceId,
    };
    await this.recordRun(run);
    return run;
  }

  /** The monitor's settings and its recorded runs, newest first. */
  async monitorRuns() {
    const now = this.clock.now();
    const stored = await this.store.read<{ runs: MonitorRun[] }>(MONITOR_PARTITION, MONITOR_DOC_ID);
    const runs = stored?.body.runs ?? [];
    const last = runs[runs.length - 1] ?? null;
    return {
      enabled: this.monitor.enabled,
      schedule: this.monitor.schedule,
      intervalSeconds: this.monitor.enabled ? scheduleIntervalSeconds(this.monitor.schedule, now) : null,
      lastRunAgeSeconds: last ? Math.max(0, Math.round((now - Date.parse(last.at)) / 1000)) : null,
      last,
      recent: runs.slice(-MONITOR_SHOWN).reverse(),
    };
  }

  /** Appends a run (a conditional write: two instances running the timer at once both land). */
  private async recordRun(run: MonitorRun): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.store.read<{ runs: MonitorRun[] }>(MONITOR_PARTITION, MONITOR_DOC_ID);
      const runs = [...(stored?.body.runs ?? []), run].slice(-MONITOR_HISTORY);
      const doc = { id: MONITOR_DOC_ID, type: 'lockstep-monitor', body: { runs } };
      try {
        if (stored) await this.store.upsert(MONITOR_PARTITION, doc, { ifMatch: stored.etag });
        else await this.store.create(MONITOR_PARTITION, doc);
        return;
      } catch (error) {
        const lost = isStoreError(error, 'precondition-failed') || isStoreError(error, 'conflict');
        if (!lost || attempt >= 10) throw error;
        await sleep(5 * (attempt + 1));
      }
    }
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

/** Seconds between two runs of a six-field NCRONTAB schedule (null when it cannot be read). */
function scheduleIntervalSeconds(schedule: string, now: number): number | null {
  try {
    const expression = CronExpressionParser.parse(schedule, { currentDate: new Date(now), tz: 'UTC' });
    const first = expression.next().getTime();
    return (expression.next().getTime() - first) / 1000;
  } catch {
    return null;
  }
}
