import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';

/**
 * Usage per principal (API key, app-role token, end user): requests by route group (the route's
 * scope) and status class per hour, and the last use.
 *
 * Counting adds no store write to a request: each instance aggregates in memory and flushes every
 * BRIDGE_USAGE_FLUSH_SECONDS, writing one document per principal, hour and instance (its running
 * totals, so a flush is an idempotent upsert and instances never contend). A crash loses at most
 * the counts since the last flush; a graceful shutdown flushes. Reads add up the instances'
 * documents (and flush this instance first).
 */

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';
export type GroupCounts = Record<string, Partial<Record<StatusClass, number>>>;

export interface UsageHour {
  hour: string;
  requests: number;
  groups: GroupCounts;
}

export interface UsageReport {
  principal: string;
  from: string;
  to: string;
  lastUsedAt: string | null;
  hours: UsageHour[];
  totals: { requests: number; groups: GroupCounts };
}

interface HourDocument {
  principal: string;
  hour: string;
  instance: string;
  groups: GroupCounts;
  lastUsedAt: number;
}

interface Bucket {
  principal: string;
  hourStart: number;
  groups: GroupCounts;
  lastUsedAt: number;
  dirty: boolean;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const HOUR_TYPE = 'usage-hour';
const LAST_TYPE = 'usage-last';
/** The longest range one read covers. */
export const MAX_USAGE_RANGE_DAYS = 31;
/** Buckets kept in memory at most (only while the store refuses flushes do old ones pile up). */
const MAX_BUCKETS = 100_000;

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const hourPartition = (principal: string, ms: number) => `usage:${principal}:${dayOf(ms)}`;
const lastPartition = (principal: string) => `usage:${principal}`;

function statusClassOf(status: number): StatusClass {
  const first = Math.min(5, Math.max(1, Math.floor(status / 100)));
  return `${first}xx` as StatusClass;
}

function addGroups(into: GroupCounts, from: GroupCounts): void {
  for (const [group, classes] of Object.entries(from)) {
    const target = (into[group] ??= {});
    for (const [cls, n] of Object.entries(classes) as [StatusClass, number][]) {
      target[cls] = (target[cls] ?? 0) + n;
    }
  }
}

const requestsIn = (groups: GroupCounts) =>
  Object.values(groups).reduce(
    (sum, classes) => sum + Object.values(classes).reduce((a, b) => a + (b ?? 0), 0),
    0,
  );

export interface UsageServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  flushSeconds: number;
  retentionSeconds: number;
  log?: (message: string) => void;
}

export class UsageService {
  /** This process's id in the documents it writes. */
  readonly instanceId = randomBytes(6).toString('hex');
  private readonly buckets = new Map<string, Bucket>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(private readonly deps: UsageServiceDeps) {}

  /** Starts the periodic flush (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flush().catch((error: Error) => this.deps.log?.(`usage flush failed: ${error.message}`));
    }, this.deps.flushSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and flushes what is left. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Counts one request: in memory only. */
  record(principal: string, group: string, status: number): void {
    const now = this.deps.clock.now();
    const hourStart = Math.floor(now / HOUR_MS) * HOUR_MS;
    const id = `${principal}\u0000${hourStart}`;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.dropOldest();
      bucket = { principal, hourStart, groups: {}, lastUsedAt: now, dirty: true };
      this.buckets.set(id, bucket);
    }
    const classes = (bucket.groups[group] ??= {});
    const cls = statusClassOf(status);
    classes[cls] = (classes[cls] ?? 0) + 1;
    bucket.lastUsedAt = now;
    bucket.dirty = true;
  }

  /** Writes every changed bucket; buckets of past hours leave memory once written. */
  flush(): Promise<void> {
    this.flushing ??= this.writeDirty().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeDirty(): Promise<void> {
    const currentHour = Math.floor(this.deps.clock.now() / HOUR_MS) * HOUR_MS;
    const ttlSeconds = this.deps.retentionSeconds;
    const failures: Error[] = [];
    const lastUse = new Map<string, number>();
    for (const [id, bucket] of [...this.buckets]) {
      if (!bucket.dirty) {
        if (bucket.hourStart < currentHour) this.buckets.delete(id);
        continue;
      }
      // Snapshot first: counts that arrive while the write is in flight stay dirty.
      bucket.dirty = false;
      const body: HourDocument = {
        principal: bucket.principal,
        hour: new Date(bucket.hourStart).toISOString(),
        instance: this.instanceId,
        groups: structuredClone(bucket.groups),
        lastUsedAt: bucket.lastUsedAt,
      };
      try {
        await this.deps.store.upsert(
          hourPartition(bucket.principal, bucket.hourStart),
          {
            id: `${String(new Date(bucket.hourStart).getUTCHours()).padStart(2, '0')}-${this.instanceId}`,
            type: HOUR_TYPE,
            body,
          },
          { ttlSeconds },
        );
        lastUse.set(bucket.principal, Math.max(lastUse.get(bucket.principal) ?? 0, bucket.lastUsedAt));
        if (bucket.hourStart < currentHour && !bucket.dirty) this.buckets.delete(id);
      } catch (error) {
        bucket.dirty = true;
        failures.push(error as Error);
      }
    }
    for (const [principal, at] of lastUse) {
      try {
        await this.deps.store.upsert(
          lastPartition(principal),
          { id: `last-${this.instanceId}`, type: LAST_TYPE, body: { principal, lastUsedAt: at } },
          { ttlSeconds },
        );
      } catch (error) {
        failures.push(error as Error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  private dropOldest(): void {
    let oldest: [string, Bucket] | undefined;
    for (const entry of this.buckets) if (!oldest || entry[1].hourStart < oldest[1].hourStart) oldest = entry;
    if (oldest) {
      this.buckets.delete(oldest[0]);
      this.deps.log?.(
        `usage: dropped the unflushed counts of ${oldest[1].principal} for one hour (memory bound)`,
      );
    }
  }

  /** Usage of `principal` between `from` and `to` (epoch ms; at most MAX_USAGE_RANGE_DAYS apart). */
  async report(principal: string, from: number, to: number): Promise<UsageReport> {
    await this.flush().catch((error: Error) => this.deps.log?.(`usage flush failed: ${error.message}`));
    const firstHour = Math.floor(from / HOUR_MS) * HOUR_MS;
    const byHour = new Map<number, GroupCounts>();
    for (let day = Math.floor(firstHour / DAY_MS) * DAY_MS; day <= to; day += DAY_MS) {
      let continuation: string | undefined;
      do {
        const page = await this.deps.store.query<HourDocument>({
          pk: hourPartition(principal, day),
          type: HOUR_TYPE,
          limit: 1000,
          continuation,
        });
        for (const doc of page.items) {
          const hour = Date.parse(doc.body.hour);
          if (hour < firstHour || hour > to) continue;
          addGroups((byHour.get(hour) ?? byHour.set(hour, {}).get(hour)) as GroupCounts, doc.body.groups);
        }
        continuation = page.continuation;
      } while (continuation);
    }
    const last = await this.deps.store.query<{ lastUsedAt: number }>({
      pk: lastPartition(principal),
      type: LAST_TYPE,
      limit: 1000,
    });
    const lastUsedAt = last.items.reduce((max, doc) => Math.max(max, doc.body.lastUsedAt), 0);
    const hours = [...byHour.entries()]
      .sort(([a], [b]) => a - b)
      .map(([hour, groups]) => ({
        hour: new Date(hour).toISOString(),
        requests: requestsIn(groups),
        groups,
      }));
    const totals: GroupCounts = {};
    for (const h of hours) addGroups(totals, h.groups);
    return {
      principal,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      lastUsedAt: lastUsedAt > 0 ? new Date(lastUsedAt).toISOString() : null,
      hours,
      totals: { requests: requestsIn(totals), groups: totals },
    };
  }
}
