import { z } from 'zod';
import type { JsonValue } from '../json';

/**
 * Admin analytics (issue 14 item 4), the pure part: how a change-feed item turns into aggregate
 * counters, how the users summary follows profile changes, and how a dashboard or a constrained
 * custom query is answered from the aggregates. No I/O: the service reads and writes the aggregate
 * documents, this module computes them.
 *
 * Time is bucketed by UTC hour (`2026-11-22T09`) and day (`2026-11-22`). Rolling windows have hour
 * resolution: "day" is the current hour and the 23 before it, "week" 168 hours, "month" 720 hours.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** How long hour buckets of the users summary are kept; windows and hourly queries reach this far. */
export const USER_HOURS_KEPT_DAYS = 35;
/** How long day buckets (users summary) and day documents (event counters) are kept. */
export const DAYS_KEPT = 400;
/** Distinct groups one metric may have in one hour; further ones count as "(other)". */
export const MAX_GROUPS_PER_HOUR = 200;
export const OTHER_GROUP = '(other)';
export const UNRECOGNISED_TITLE = '(unrecognised)';

export const WINDOWS = { day: 24, week: 7 * 24, month: 30 * 24 } as const;
export type WindowName = keyof typeof WINDOWS;

export const hourKeyOf = (ms: number) => new Date(ms).toISOString().slice(0, 13);
export const dayKeyOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const hourStart = (key: string) => Date.parse(`${key}:00:00.000Z`);
export const dayStart = (key: string) => Date.parse(`${key}T00:00:00.000Z`);

// ---------------------------------------------------------------------------------------------
// Event counters

/** The metrics counted from events, and the dimension each is grouped by. */
export const EVENT_METRICS = {
  /** Applied syncs (a sync that changed the profile: a `user_update` event), by writer. */
  syncs: 'writer',
  /** Conflicts resolved inside applied syncs, by writer. */
  conflicts: 'writer',
  /** Committed events, by type. */
  events: 'type',
  /** Token charges, by metered operation. */
  token_charges: 'operation',
  /** Tokens spent, by metered operation. */
  tokens_spent: 'operation',
  /** Comprehensive analyses, by the provider that answered. */
  analyses: 'provider',
  /** Comprehensive analyses answered in degraded mode (the heuristic), by provider. */
  analyses_degraded: 'provider',
} as const;
/** The metrics of the users summary (not grouped). */
export const USER_METRICS = { users_created: 'none', users_deleted: 'none' } as const;

export type EventMetric = keyof typeof EVENT_METRICS;
export type UserMetric = keyof typeof USER_METRICS;
export type Metric = EventMetric | UserMetric;
export const METRICS = [...Object.keys(EVENT_METRICS), ...Object.keys(USER_METRICS)] as Metric[];

/** metric|group → count, for one hour. */
export type Counters = Record<string, number>;

/** One day of event counters, by hour ("00".."23"). */
export interface DayCounters {
  day: string;
  hours: Record<string, Counters>;
}

export interface EventFacts {
  type: string;
  time: string;
  data: JsonValue;
}

const groupName = (value: unknown): string =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, 100) : 'unknown';

const field = (data: JsonValue, name: string): unknown =>
  typeof data === 'object' && data !== null && !Array.isArray(data) ? data[name] : undefined;

const counterKey = (metric: EventMetric, group: string) => `${metric}|${group}`;

/** What one event adds to its hour's counters; undefined for an event without a valid time. */
export function eventContribution(event: EventFacts): { hour: string; counters: Counters } | undefined {
  const at = Date.parse(event.time);
  if (!Number.isFinite(at)) return undefined;
  const counters: Counters = { [counterKey('events', groupName(event.type))]: 1 };
  const add = (metric: EventMetric, group: unknown, n: number) => {
    if (n <= 0 || !Number.isFinite(n)) return;
    const key = counterKey(metric, groupName(group));
    counters[key] = (counters[key] ?? 0) + n;
  };
  const { data } = event;
  switch (event.type) {
    case 'user_update': {
      add('syncs', field(data, 'writer'), 1);
      const conflicts = field(data, 'conflicts');
      add('conflicts', field(data, 'writer'), Array.isArray(conflicts) ? conflicts.length : 0);
      break;
    }
    case 'tokens_charged': {
      add('token_charges', field(data, 'operation'), 1);
      const amount = field(data, 'amount');
      add('tokens_spent', field(data, 'operation'), typeof amount === 'number' ? amount : 0);
      break;
    }
    case 'analysis_complete': {
      if (field(data, 'analysis') !== 'comprehensive') break;
      add('analyses', field(data, 'provider'), 1);
      if (field(data, 'degraded') === true) add('analyses_degraded', field(data, 'provider'), 1);
      break;
    }
  }
  return { hour: hourKeyOf(at), counters };
}

/**
 * Adds `delta` into `target` (both one hour's counters). A metric with MAX_GROUPS_PER_HOUR groups
 * already counts any new group as OTHER_GROUP, so a flood of invented event types cannot grow a
 * document without bound.
 */
export function addCounters(target: Counters, delta: Counters): Counters {
  const out: Counters = { ...target };
  const groups = new Map<string, number>();
  for (const key of Object.keys(out)) {
    const metric = key.slice(0, key.indexOf('|'));
    groups.set(metric, (groups.get(metric) ?? 0) + 1);
  }
  for (const [key, n] of Object.entries(delta)) {
    let k = key;
    if (!(k in out)) {
      const metric = key.slice(0, key.indexOf('|'));
      if ((groups.get(metric) ?? 0) >= MAX_GROUPS_PER_HOUR) k = `${metric}|${OTHER_GROUP}`;
      else groups.set(metric, (groups.get(metric) ?? 0) + 1);
    }
    out[k] = (out[k] ?? 0) + n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Users summary

export interface UsersSummary {
  /** Live (not deleted) users. */
  total: number;
  createdByHour: Record<string, number>;
  createdByDay: Record<string, number>;
  deletedByHour: Record<string, number>;
  deletedByDay: Record<string, number>;
  /** Live users by the hour of their latest user-portal change (each user counted once). */
  activeByLastHour: Record<string, number>;
  /** Live users by normalised job title. */
  titles: Record<string, number>;
  /** Newest change folded in (profile updatedAt), ISO. */
  newestChangeAt: string | null;
}

/** What the summary remembers of one user (so a profile seen again is never counted twice). */
export interface UserTracker {
  userId: string;
  alive: boolean;
  createdAt: string;
  lastActiveHour: string | null;
  title: string | null;
}

/** A profile version as the change feed shows it, reduced to what the summary needs. */
export interface ProfileChange {
  userId: string;
  deleted: boolean;
  createdAt: string;
  updatedAt: string;
  /** Latest change made through the user portal (writer `user`), ISO; null when none. */
  lastUserActivityAt: string | null;
  /** Normalised title key (e.g. a taxonomy title); null when the profile names none. */
  title: string | null;
}

export const emptyUsersSummary = (): UsersSummary => ({
  total: 0,
  createdByHour: {},
  createdByDay: {},
  deletedByHour: {},
  deletedByDay: {},
  activeByLastHour: {},
  titles: {},
  newestChangeAt: null,
});

function bump(map: Record<string, number>, key: string | null, n: number): void {
  if (key === null) return;
  const next = (map[key] ?? 0) + n;
  if (next > 0) map[key] = next;
  else delete map[key]; // a bucket already pruned (or emptied) never goes negative
}

const timeKey = (iso: string, of: (ms: number) => string): string | null => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? of(ms) : null;
};

/**
 * Folds one profile change into the summary, given what was remembered of the user. Idempotent:
 * the same change applied with the tracker it produced changes nothing. A profile seen alive with
 * another creation time than remembered was deleted and created again in between.
 */
export function applyProfileChange(
  summary: UsersSummary,
  tracker: UserTracker | undefined,
  change: ProfileChange,
): { summary: UsersSummary; tracker: UserTracker } {
  const s: UsersSummary = structuredClone(summary);
  const was = tracker?.alive ? tracker : undefined;
  const forget = (t: UserTracker) => {
    s.total -= 1;
    bump(s.activeByLastHour, t.lastActiveHour, -1);
    bump(s.titles, t.title, -1);
  };
  const activeHour =
    change.lastUserActivityAt === null ? null : timeKey(change.lastUserActivityAt, hourKeyOf);
  let next: UserTracker;
  if (change.deleted) {
    // A change feed shows a document's latest version only: a user never seen before and first
    // seen as a tombstone was created and deleted between two looks. Both happened; count both.
    const unseenLife = tracker === undefined;
    if (was) forget(was);
    if (unseenLife) {
      bump(s.createdByHour, timeKey(change.createdAt, hourKeyOf), 1);
      bump(s.createdByDay, timeKey(change.createdAt, dayKeyOf), 1);
    }
    if (was || unseenLife) {
      bump(s.deletedByHour, timeKey(change.updatedAt, hourKeyOf), 1);
      bump(s.deletedByDay, timeKey(change.updatedAt, dayKeyOf), 1);
    }
    next = {
      userId: change.userId,
      alive: false,
      createdAt: tracker?.createdAt ?? change.createdAt,
      lastActiveHour: null,
      title: null,
    };
  } else if (!was || was.createdAt !== change.createdAt) {
    if (was) {
      // Deleted and created again between two looks: the deletion happened before the new creation.
      forget(was);
      bump(s.deletedByHour, timeKey(change.createdAt, hourKeyOf), 1);
      bump(s.deletedByDay, timeKey(change.createdAt, dayKeyOf), 1);
    }
    s.total += 1;
    bump(s.createdByHour, timeKey(change.createdAt, hourKeyOf), 1);
    bump(s.createdByDay, timeKey(change.createdAt, dayKeyOf), 1);
    bump(s.activeByLastHour, activeHour, 1);
    bump(s.titles, change.title, 1);
    next = {
      userId: change.userId,
      alive: true,
      createdAt: change.createdAt,
      lastActiveHour: activeHour,
      title: change.title,
    };
  } else {
    next = { ...was };
    if (activeHour !== null && (was.lastActiveHour === null || activeHour > was.lastActiveHour)) {
      bump(s.activeByLastHour, was.lastActiveHour, -1);
      bump(s.activeByLastHour, activeHour, 1);
      next.lastActiveHour = activeHour;
    }
    if (change.title !== was.title) {
      bump(s.titles, was.title, -1);
      bump(s.titles, change.title, 1);
      next.title = change.title;
    }
  }
  if (s.newestChangeAt === null || change.updatedAt > s.newestChangeAt) s.newestChangeAt = change.updatedAt;
  return { summary: s, tracker: next };
}

/** Drops hour buckets older than USER_HOURS_KEPT_DAYS and day buckets older than DAYS_KEPT. */
export function pruneUsersSummary(summary: UsersSummary, now: number): UsersSummary {
  const oldestHour = hourKeyOf(now - USER_HOURS_KEPT_DAYS * DAY_MS);
  const oldestDay = dayKeyOf(now - DAYS_KEPT * DAY_MS);
  const keep = (map: Record<string, number>, oldest: string) =>
    Object.fromEntries(Object.entries(map).filter(([k]) => k >= oldest));
  return {
    ...summary,
    createdByHour: keep(summary.createdByHour, oldestHour),
    deletedByHour: keep(summary.deletedByHour, oldestHour),
    activeByLastHour: keep(summary.activeByLastHour, oldestHour),
    createdByDay: keep(summary.createdByDay, oldestDay),
    deletedByDay: keep(summary.deletedByDay, oldestDay),
  };
}

// ---------------------------------------------------------------------------------------------
// Dashboard

/** Sum of hour buckets in the last `hours` hours (the current one included). */
export function sumHours(map: Record<string, number>, now: number, hours: number): number {
  const oldest = hourKeyOf(now - (hours - 1) * HOUR_MS);
  let total = 0;
  for (const [key, n] of Object.entries(map)) if (key >= oldest) total += n;
  return total;
}

/** Hour counters (hourKey → counters) summed per metric and group over the last `hours` hours. */
export function groupedOverWindow(
  hours: ReadonlyMap<string, Counters>,
  now: number,
  windowHours: number,
): Record<string, Record<string, number>> {
  const oldest = hourKeyOf(now - (windowHours - 1) * HOUR_MS);
  const out: Record<string, Record<string, number>> = {};
  for (const [hour, counters] of hours) {
    if (hour < oldest) continue;
    for (const [key, n] of Object.entries(counters)) {
      const cut = key.indexOf('|');
      const metric = key.slice(0, cut);
      const group = key.slice(cut + 1);
      const byGroup = (out[metric] ??= {});
      byGroup[group] = (byGroup[group] ?? 0) + n;
    }
  }
  return out;
}

/** The top `limit` titles by users, recognised titles only, with the unrecognised count apart. */
export function topTitles(
  titles: Record<string, number>,
  limit: number,
): { titles: { title: string; users: number }[]; unrecognised: number } {
  const titled = Object.entries(titles)
    .filter(([title]) => title !== UNRECOGNISED_TITLE)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, limit)
    .map(([title, users]) => ({ title, users }));
  return { titles: titled, unrecognised: titles[UNRECOGNISED_TITLE] ?? 0 };
}

// ---------------------------------------------------------------------------------------------
// Custom queries

export const GROUP_BYS = ['none', 'writer', 'type', 'operation', 'provider'] as const;
export const BUCKETS = ['hour', 'day', 'week', 'total'] as const;
export const RELATIVE_RANGES = {
  '24h': DAY_MS,
  '7d': 7 * DAY_MS,
  '30d': 30 * DAY_MS,
  '90d': 90 * DAY_MS,
  '365d': 365 * DAY_MS,
} as const;
/** The most buckets one answer may have. */
export const MAX_BUCKETS = 400;
/** The most groups one answer lists (the rest are summed as "(other)"). */
export const MAX_SERIES = 20;

const isoTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z',
});

/** A custom analytics query: metric × group-by × time range × bucket (POST /api/admin/analytics/custom). */
export const customQuerySchema = z
  .strictObject({
    metric: z.enum(METRICS as [Metric, ...Metric[]]),
    groupBy: z.enum(GROUP_BYS).optional(),
    range: z.union([
      z.strictObject({ last: z.enum(Object.keys(RELATIVE_RANGES) as [keyof typeof RELATIVE_RANGES]) }),
      z.strictObject({ from: isoTime, to: isoTime }),
    ]),
    bucket: z.enum(BUCKETS),
    /** Save the query as a report (GET /api/admin/analytics/reports/{id}) under this name. */
    saveAs: z.string().trim().min(1).max(100).optional(),
  })
  .superRefine((q, ctx) => {
    const dimension = (EVENT_METRICS as Record<string, string>)[q.metric] ?? 'none';
    if (q.groupBy !== undefined && q.groupBy !== 'none' && q.groupBy !== dimension) {
      ctx.addIssue({
        code: 'custom',
        path: ['groupBy'],
        message: `${q.metric} can be grouped by ${dimension === 'none' ? 'nothing' : `${dimension} (or none)`}`,
      });
    }
    if ('from' in q.range) {
      const from = Date.parse(q.range.from);
      const to = Date.parse(q.range.to);
      if (!(from < to))
        ctx.addIssue({ code: 'custom', path: ['range', 'to'], message: 'must be after from' });
      if (to - from > DAYS_KEPT * DAY_MS) {
        ctx.addIssue({ code: 'custom', path: ['range'], message: `may span at most ${DAYS_KEPT} days` });
      }
    }
  });
export type CustomQuery = z.output<typeof customQuerySchema>;

export interface ResolvedRange {
  from: number;
  to: number;
}

/** The query's range, hour-aligned (from rounded down, to rounded up), checked against retention and bucket count. */
export function resolveRange(query: CustomQuery, now: number): ResolvedRange | { error: string } {
  const rawTo = 'last' in query.range ? now : Date.parse(query.range.to);
  const rawFrom =
    'last' in query.range ? now - RELATIVE_RANGES[query.range.last] : Date.parse(query.range.from);
  const from = Math.floor(rawFrom / HOUR_MS) * HOUR_MS;
  const to = Math.ceil((rawTo + 1) / HOUR_MS) * HOUR_MS;
  if (to > now + 2 * HOUR_MS) return { error: 'range.to may be at most an hour in the future' };
  const hourlyDays = query.metric in USER_METRICS ? USER_HOURS_KEPT_DAYS : DAYS_KEPT;
  if (query.bucket === 'hour' && from < now - hourlyDays * DAY_MS) {
    return { error: `hour buckets of ${query.metric} reach back ${hourlyDays} days; use day buckets` };
  }
  if (from < now - (DAYS_KEPT + 1) * DAY_MS) return { error: `aggregates reach back ${DAYS_KEPT} days` };
  const buckets = bucketStarts(query.bucket, from, to).length;
  if (buckets > MAX_BUCKETS) return { error: `${buckets} ${query.bucket} buckets; at most ${MAX_BUCKETS}` };
  return { from, to };
}

/** Start of each bucket covering [from, to): UTC hours, days, ISO weeks (Monday) or one total. */
export function bucketStarts(bucket: CustomQuery['bucket'], from: number, to: number): number[] {
  if (bucket === 'total') return [from];
  const floor = (t: number) => {
    if (bucket === 'hour') return Math.floor(t / HOUR_MS) * HOUR_MS;
    const day = Math.floor(t / DAY_MS) * DAY_MS;
    if (bucket === 'day') return day;
    const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
    return day - weekday * DAY_MS;
  };
  const step = bucket === 'hour' ? HOUR_MS : bucket === 'day' ? DAY_MS : 7 * DAY_MS;
  const starts: number[] = [];
  for (let t = floor(from); t < to && starts.length <= MAX_BUCKETS; t += step) starts.push(t);
  return starts;
}

export interface SeriesAnswer {
  metric: Metric;
  groupBy: (typeof GROUP_BYS)[number];
  bucket: CustomQuery['bucket'];
  from: string;
  to: string;
  series: { group: string; total: number; points: { start: string; value: number }[] }[];
  total: number;
}

/**
 * Answers a query from timed counts: `samples` are (time, group, value) at hour or day resolution,
 * already restricted to the metric. Samples outside [from, to) are ignored.
 */
export function answerQuery(
  query: CustomQuery,
  range: ResolvedRange,
  samples: Iterable<{ at: number; group: string; value: number }>,
): SeriesAnswer {
  const groupBy = query.groupBy ?? 'none';
  const starts = bucketStarts(query.bucket, range.from, range.to);
  const index = (at: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const byGroup = new Map<string, number[]>();
  for (const s of samples) {
    if (s.at < range.from || s.at >= range.to) continue;
    const group = groupBy === 'none' ? 'all' : s.group;
    let points = byGroup.get(group);
    if (!points) byGroup.set(group, (points = starts.map(() => 0)));
    points[index(s.at)] = (points[index(s.at)] as number) + s.value;
  }
  let series = [...byGroup.entries()]
    .map(([group, values]) => ({ group, values, total: values.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || (a.group < b.group ? -1 : 1));
  if (series.length > MAX_SERIES) {
    const rest = series.slice(MAX_SERIES - 1);
    const merged = starts.map((_, i) => rest.reduce((sum, s) => sum + (s.values[i] as number), 0));
    series = [
      ...series.slice(0, MAX_SERIES - 1),
      { group: OTHER_GROUP, values: merged, total: merged.reduce((a, b) => a + b, 0) },
    ];
  }
  const iso = (t: number) => new Date(t).toISOString();
  return {
    metric: query.metric,
    groupBy,
    bucket: query.bucket,
    from: iso(range.from),
    to: iso(range.to),
    series: series.map((s) => ({
      group: s.group,
      total: s.total,
      points: s.values.map((value, i) => ({ start: iso(starts[i] as number), value })),
    })),
    total: series.reduce((sum, s) => sum + s.total, 0),
  };
}
