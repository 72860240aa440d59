import { createHash, randomBytes } from 'node:crypto';
import {
  addCounters,
  answerQuery,
  applyProfileChange,
  dayKeyOf,
  dayStart,
  DAYS_KEPT,
  DAY_MS,
  emptyUsersSummary,
  eventContribution,
  EVENT_METRICS,
  groupedOverWindow,
  hourStart,
  pruneUsersSummary,
  resolveRange,
  sumHours,
  topTitles,
  UNRECOGNISED_TITLE,
  USER_HOURS_KEPT_DAYS,
  WINDOWS,
  type Counters,
  type CustomQuery,
  type DayCounters,
  type ProfileChange,
  type SeriesAnswer,
  type UserTracker,
  type UsersSummary,
  type WindowName,
} from '../../domain/admin/analytics';
import { profileTitle } from '../../domain/admin/enrichment';
import { EVENT_DOC_TYPE, type EventDocumentBody } from '../../domain/cloud-event';
import type { UserProfile } from '../../domain/user-profile';
import type { ChangeFeedItemDecoder } from '../../ports/change-feed';
import type { Clock } from '../../ports/clock';
import {
  isStoreError,
  type BatchOperation,
  type DocumentCollection,
  type StoredDocument,
} from '../../ports/document-store';
import { ServiceError } from '../errors';
import type { JobTitleService } from '../job-title-service';
import { ownerIdOf } from '../access-policy';
import type { Principal } from '../principal';

/**
 * Admin analytics (issue 14 item 4), answered from aggregates that a second change-feed consumer
 * (functions/analytics-changefeed.ts, its own lease) maintains — never from scans per request.
 *
 * - `analytics:users` partition: the users summary (totals, created/deleted per hour and day,
 *   active users by the hour of their latest user-portal change, users per normalised title) and one
 *   tracker per user (what the summary last counted for them). A page of profile changes is folded
 *   in with one transactional batch (summary + trackers), so it is counted exactly once, and a
 *   profile seen again (the feed redelivers after a crash) changes nothing.
 * - `analytics:events` partition: one document per UTC day with per-hour counters, and one marker
 *   per counted event (`seen:<hash>`, kept for the event retention) written in the same batch as the
 *   counters: an event delivered twice is counted once.
 * - `analytics:reports` partition: saved custom queries.
 *
 * Freshness: the aggregates trail the writes by the change feed's poll delay plus processing
 * (BRIDGE_FEED_POLL_DELAY_MS locally and in Azure); every answer says when they were last updated.
 */

const USERS_PK = 'analytics:users';
const EVENTS_PK = 'analytics:events';
const REPORTS_PK = 'analytics:reports';
const STATUS_PK = 'analytics:status';
const SUMMARY_ID = 'summary';
const SUMMARY_TYPE = 'analytics-users';
const TRACKER_TYPE = 'analytics-user';
const DAY_TYPE = 'analytics-day';
const MARKER_TYPE = 'analytics-seen';
const REPORT_TYPE = 'analytics-report';
const STATUS_TYPE = 'analytics-status';
const trackerId = (userId: string) => `u:${userId}`;
const dayId = (day: string) => `day:${day}`;
const markerId = (eventId: string) =>
  `seen:${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}`;
/** Operations per transactional batch: Cosmos DB allows 100. */
const BATCH_OPS = 100;
const MAX_RACES = 50;
const TOP_TITLES = 10;

interface SummaryDocument extends UsersSummary {
  updatedAt: string;
}

interface DayDocument extends DayCounters {
  updatedAt: string;
  newestEventAt: string | null;
}

interface StatusDocument {
  failedInvocations: number;
  lastFailureAt: string | null;
  lastError: string | null;
}

export interface SavedReport {
  id: string;
  name: string;
  query: Omit<CustomQuery, 'saveAs'>;
  createdAt: string;
  createdBy: string;
}

export interface AnalyticsServiceDeps {
  store: DocumentCollection;
  /** Turns the trigger's items into stored documents (the change-feed port). */
  decode: ChangeFeedItemDecoder;
  clock: Clock;
  jobTitles: JobTitleService;
  /** How long an event can be redelivered by the change feed (its retention): markers live this long. */
  eventRetentionSeconds: number;
  /** The change feed's poll delay, reported as part of freshness. */
  feedPollDelayMs: number;
}

export class AnalyticsService {
  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly jobTitles: JobTitleService;
  private readonly decode: ChangeFeedItemDecoder;
  private readonly options: { eventRetentionSeconds: number; feedPollDelayMs: number };

  constructor(deps: AnalyticsServiceDeps) {
    this.store = deps.store;
    this.decode = deps.decode;
    this.clock = deps.clock;
    this.jobTitles = deps.jobTitles;
    this.options = deps;
  }

  // -------------------------------------------------------------------------------------------
  // The change-feed consumer

  /**
   * What analytics-changefeed hands over: the trigger's items, decoded, folded in with up to
   * `attempts` tries (the trigger moves its lease on even when the function throws); a page that
   * still fails is counted in the aggregates' status, so answers can say they may be short.
   */
  async acceptFeed(
    items: readonly unknown[],
    attempts = 5,
  ): Promise<{ profiles: number; events: number; failed?: string }> {
    const docs: StoredDocument[] = [];
    for (const item of items) {
      const doc = this.decode(item);
      if (doc && (doc.type === 'user' || doc.type === EVENT_DOC_TYPE)) docs.push(doc);
    }
    if (docs.length === 0) return { profiles: 0, events: 0 };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.consume(docs);
      } catch (error) {
        if (attempt >= attempts) {
          await this.recordFailure(error).catch(() => undefined);
          return { profiles: 0, events: 0, failed: String(error) };
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  /** Folds a page of changed documents into the aggregates (profiles and events; others are ignored). */
  async consume(documents: readonly StoredDocument[]): Promise<{ profiles: number; events: number }> {
    const profiles = new Map<string, StoredDocument<UserProfile & { deleted?: true }>>();
    const events: EventDocumentBody[] = [];
    for (const doc of documents) {
      if (doc.type === 'user' && doc.id === 'profile') {
        const body = doc.body as UserProfile & { deleted?: true };
        if (typeof body?.userId === 'string') profiles.set(body.userId, doc as StoredDocument<typeof body>);
      } else if (doc.type === EVENT_DOC_TYPE) {
        const body = doc.body as EventDocumentBody;
        if (body?.event && typeof body.event.id === 'string') events.push(body);
      }
    }
    const changes: ProfileChange[] = [];
    for (const doc of profiles.values()) changes.push(await this.profileChange(doc.body));
    for (let i = 0; i < changes.length; i += BATCH_OPS - 1)
      await this.foldProfiles(changes.slice(i, i + BATCH_OPS - 1));
    // Each batch: up to 80 markers plus the day documents they touch.
    for (let i = 0; i < events.length; i += 80) await this.foldEvents(events.slice(i, i + 80));
    return { profiles: changes.length, events: events.length };
  }

  /** Counts an invocation the consumer gave up on, so answers can say the aggregates may be short. */
  async recordFailure(error: unknown): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await this.store.read<StatusDocument>(STATUS_PK, 'status');
      const body: StatusDocument = {
        failedInvocations: (doc?.body.failedInvocations ?? 0) + 1,
        lastFailureAt: new Date(this.clock.now()).toISOString(),
        lastError: String(error instanceof Error ? error.message : error).slice(0, 500),
      };
      try {
        await this.store.upsert(
          STATUS_PK,
          { id: 'status', type: STATUS_TYPE, body },
          doc ? { ifMatch: doc.etag } : {},
        );
        return;
      } catch (e) {
        if (!isStoreError(e, 'precondition-failed')) throw e;
      }
    }
  }

  private async profileChange(profile: UserProfile & { deleted?: true }): Promise<ProfileChange> {
    let lastUserActivityAt: string | null = null;
    for (const meta of Object.values(profile.fields ?? {})) {
      if (meta.source === 'user' && (lastUserActivityAt === null || meta.updatedAt > lastUserActivityAt)) {
        lastUserActivityAt = meta.updatedAt;
      }
    }
    let title: string | null = null;
    const raw = profile.deleted ? null : profileTitle(profile.data ?? {});
    if (raw !== null) {
      const match = await this.jobTitles.titleIdOf(raw);
      title = match.titleId !== null ? match.normalizedTitle : UNRECOGNISED_TITLE;
    }
    return {
      userId: profile.userId,
      deleted: profile.deleted === true,
      createdAt: profile.createdAt,
      updatedAt: profile.updatedAt,
      lastUserActivityAt,
      title,
    };
  }

  private async foldProfiles(changes: readonly ProfileChange[]): Promise<void> {
    for (let attempt = 0; attempt < MAX_RACES; attempt++) {
      const summaryDoc = await this.store.read<SummaryDocument>(USERS_PK, SUMMARY_ID);
      const trackers = await Promise.all(
        changes.map((c) => this.store.read<UserTracker>(USERS_PK, trackerId(c.userId))),
      );
      let summary: UsersSummary = summaryDoc?.body ?? emptyUsersSummary();
      const ops: BatchOperation[] = [];
      changes.forEach((change, i) => {
        const before = trackers[i];
        const { summary: next, tracker } = applyProfileChange(summary, before?.body, change);
        summary = next;
        if (!before || JSON.stringify(before.body) !== JSON.stringify(tracker)) {
          ops.push(
            before
              ? {
                  op: 'replace',
                  id: trackerId(change.userId),
                  type: TRACKER_TYPE,
                  body: tracker,
                  ifMatch: before.etag,
                }
              : { op: 'create', id: trackerId(change.userId), type: TRACKER_TYPE, body: tracker },
          );
        }
      });
      if (ops.length === 0) return; // every change was counted already
      const now = this.clock.now();
      const body: SummaryDocument = {
        ...pruneUsersSummary(summary, now),
        updatedAt: new Date(now).toISOString(),
      };
      ops.unshift(
        summaryDoc
          ? { op: 'replace', id: SUMMARY_ID, type: SUMMARY_TYPE, body, ifMatch: summaryDoc.etag }
          : { op: 'create', id: SUMMARY_ID, type: SUMMARY_TYPE, body },
      );
      try {
        await this.store.batch(USERS_PK, ops);
        return;
      } catch (error) {
        if (!isLostRace(error)) throw error;
      }
    }
    throw new ServiceError(
      'unavailable',
      'The users summary is being written concurrently; the feed will retry.',
    );
  }

  private async foldEvents(events: readonly EventDocumentBody[]): Promise<void> {
    let pending = [...new Map(events.map((e) => [e.event.id, e])).values()];
    for (let attempt = 0; attempt < MAX_RACES && pending.length > 0; attempt++) {
      const byDay = new Map<string, Map<string, Counters>>();
      const newest = new Map<string, string>();
      const counted: EventDocumentBody[] = [];
      for (const body of pending) {
        const contribution = eventContribution(body.event);
        if (!contribution) continue;
        counted.push(body);
        const day = contribution.hour.slice(0, 10);
        const hour = contribution.hour.slice(11, 13);
        const hours = byDay.get(day) ?? new Map<string, Counters>();
        hours.set(hour, addCounters(hours.get(hour) ?? {}, contribution.counters));
        byDay.set(day, hours);
        if ((newest.get(day) ?? '') < body.event.time) newest.set(day, body.event.time);
      }
      if (counted.length === 0) return;
      const now = this.clock.now();
      const days = [...byDay.keys()];
      const current = await Promise.all(days.map((d) => this.store.read<DayDocument>(EVENTS_PK, dayId(d))));
      const ops: BatchOperation[] = days.map((day, i) => {
        const doc = current[i];
        const hours: Record<string, Counters> = { ...(doc?.body.hours ?? {}) };
        for (const [hour, delta] of byDay.get(day) ?? []) hours[hour] = addCounters(hours[hour] ?? {}, delta);
        const previousNewest = doc?.body.newestEventAt ?? null;
        const candidate = newest.get(day) ?? null;
        const body: DayDocument = {
          day,
          hours,
          updatedAt: new Date(now).toISOString(),
          newestEventAt:
            previousNewest === null || (candidate !== null && candidate > previousNewest)
              ? candidate
              : previousNewest,
        };
        const ttlSeconds = Math.ceil((dayStart(day) + (DAYS_KEPT + 1) * DAY_MS - now) / 1000);
        const ttl = Math.max(60, ttlSeconds);
        return doc
          ? { op: 'replace', id: dayId(day), type: DAY_TYPE, body, ifMatch: doc.etag, ttlSeconds: ttl }
          : { op: 'create', id: dayId(day), type: DAY_TYPE, body, ttlSeconds: ttl };
      });
      const markerStart = ops.length;
      for (const body of counted) {
        ops.push({
          op: 'create',
          id: markerId(body.event.id),
          type: MARKER_TYPE,
          body: { eventId: body.event.id },
          ttlSeconds: this.options.eventRetentionSeconds + 86_400,
        });
      }
      try {
        await this.store.batch(EVENTS_PK, ops);
        return;
      } catch (error) {
        if (!isStoreError(error)) throw error;
        const index = error.operationIndex;
        if (error.code === 'conflict' && index !== undefined && index >= markerStart) {
          // That event was counted before (a redelivery): leave it out and count the others.
          const seen = counted[index - markerStart]?.event.id;
          pending = pending.filter((e) => e.event.id !== seen);
          continue;
        }
        if (!isLostRace(error)) throw error;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Answers

  async dashboard() {
    const now = this.clock.now();
    const [summaryDoc, days, status] = await Promise.all([
      this.store.read<SummaryDocument>(USERS_PK, SUMMARY_ID),
      this.days(dayKeyOf(now - 31 * DAY_MS), dayKeyOf(now)),
      this.store.read<StatusDocument>(STATUS_PK, 'status'),
    ]);
    const summary = summaryDoc?.body ?? emptyUsersSummary();
    const hours = hourCounters(days);
    const byWindow = Object.fromEntries(
      (Object.keys(WINDOWS) as WindowName[]).map((w) => [w, groupedOverWindow(hours, now, WINDOWS[w])]),
    ) as Record<WindowName, Record<string, Record<string, number>>>;
    const perWindow = <T>(f: (w: WindowName) => T) =>
      Object.fromEntries((Object.keys(WINDOWS) as WindowName[]).map((w) => [w, f(w)])) as Record<
        WindowName,
        T
      >;
    const grouped = (metric: keyof typeof EVENT_METRICS) => perWindow((w) => byWindow[w][metric] ?? {});
    return {
      generatedAt: new Date(now).toISOString(),
      windows: { day: 'last 24 hours', week: 'last 7 days', month: 'last 30 days', resolution: 'hour' },
      users: {
        total: summary.total,
        created: perWindow((w) => sumHours(summary.createdByHour, now, WINDOWS[w])),
        deleted: perWindow((w) => sumHours(summary.deletedByHour, now, WINDOWS[w])),
        active: perWindow((w) => sumHours(summary.activeByLastHour, now, WINDOWS[w])),
      },
      syncs: perWindow((w) => ({
        byWriter: byWindow[w].syncs ?? {},
        conflictsByWriter: byWindow[w].conflicts ?? {},
      })),
      events: perWindow((w) => ({ byType: byWindow[w].events ?? {} })),
      tokens: perWindow((w) => {
        const charges = byWindow[w].token_charges ?? {};
        const spent = byWindow[w].tokens_spent ?? {};
        const operations = [...new Set([...Object.keys(charges), ...Object.keys(spent)])].sort();
        return {
          byOperation: Object.fromEntries(
            operations.map((op) => [op, { charges: charges[op] ?? 0, tokens: spent[op] ?? 0 }]),
          ),
        };
      }),
      analyses: perWindow((w) => {
        const byProvider = grouped('analyses')[w];
        const degraded = grouped('analyses_degraded')[w];
        const total = Object.values(byProvider).reduce((a, b) => a + b, 0);
        const degradedTotal = Object.values(degraded).reduce((a, b) => a + b, 0);
        return {
          total,
          byProvider,
          degraded: degradedTotal,
          degradedShare: total === 0 ? null : degradedTotal / total,
        };
      }),
      topJobTitles: topTitles(summary.titles, TOP_TITLES),
      freshness: this.freshness(summaryDoc?.body, days, status?.body),
    };
  }

  /** A custom query (and, with `saveAs`, its saving as a report). */
  async custom(
    query: CustomQuery,
    principal: Principal,
  ): Promise<SeriesAnswer & { report?: SavedReport; freshness: unknown }> {
    const { saveAs, ...plain } = query;
    const answer = await this.run(plain);
    if (saveAs === undefined) return answer;
    const report: SavedReport = {
      id: `rep_${randomBytes(12).toString('hex')}`,
      name: saveAs,
      query: plain,
      createdAt: new Date(this.clock.now()).toISOString(),
      createdBy: ownerIdOf(principal),
    };
    await this.store.create(REPORTS_PK, { id: `report:${report.id}`, type: REPORT_TYPE, body: report });
    return { ...answer, report };
  }

  async report(
    id: string,
  ): Promise<{ report: SavedReport; result: Awaited<ReturnType<AnalyticsService['run']>> } | undefined> {
    const doc = await this.store.read<SavedReport>(REPORTS_PK, `report:${id}`);
    if (!doc) return undefined;
    return { report: doc.body, result: await this.run(doc.body.query) };
  }

  private async run(query: CustomQuery) {
    const now = this.clock.now();
    const range = resolveRange(query, now);
    if ('error' in range) {
      throw new ServiceError('validation', range.error, [{ path: '/range', message: range.error }]);
    }
    let samples: { at: number; group: string; value: number }[] = [];
    let freshness;
    if (query.metric === 'users_created' || query.metric === 'users_deleted') {
      const summaryDoc = await this.store.read<SummaryDocument>(USERS_PK, SUMMARY_ID);
      const s = summaryDoc?.body ?? emptyUsersSummary();
      const hourly = range.from >= now - USER_HOURS_KEPT_DAYS * DAY_MS;
      const map =
        query.metric === 'users_created'
          ? hourly
            ? s.createdByHour
            : s.createdByDay
          : hourly
            ? s.deletedByHour
            : s.deletedByDay;
      samples = Object.entries(map).map(([key, value]) => ({
        at: hourly ? hourStart(key) : dayStart(key),
        group: 'all',
        value,
      }));
      // Day buckets of the summary start at midnight: widen the range to whole days.
      if (!hourly) range.from = dayStart(dayKeyOf(range.from));
      freshness = this.freshness(summaryDoc?.body, [], undefined);
    } else {
      const days = await this.days(dayKeyOf(range.from), dayKeyOf(range.to - 1));
      const prefix = `${query.metric}|`;
      for (const [hour, counters] of hourCounters(days)) {
        const at = hourStart(hour);
        for (const [key, value] of Object.entries(counters)) {
          if (key.startsWith(prefix)) samples.push({ at, group: key.slice(prefix.length), value });
        }
      }
      freshness = this.freshness(undefined, days, undefined);
    }
    return { ...answerQuery(query, range, samples), freshness };
  }

  /** Day documents from `first` to `last` (inclusive), one single-partition query. */
  private async days(first: string, last: string): Promise<DayDocument[]> {
    const out: DayDocument[] = [];
    let continuation: string | undefined;
    do {
      const page = await this.store.query<DayDocument>({
        pk: EVENTS_PK,
        type: DAY_TYPE,
        conditions: [
          { path: ['day'], op: 'gte', value: first },
          { path: ['day'], op: 'lte', value: last },
        ],
        limit: 100,
        ...(continuation ? { continuation } : {}),
      });
      out.push(...page.items.map((d) => d.body));
      continuation = page.continuation;
    } while (continuation);
    return out;
  }

  private freshness(
    summary: SummaryDocument | undefined,
    days: readonly DayDocument[],
    status: StatusDocument | undefined,
  ) {
    const latest = (values: (string | null | undefined)[]) =>
      values.reduce<string | null>((max, v) => (v && (max === null || v > max) ? v : max), null);
    return {
      /** When the consumer last wrote these aggregates. */
      aggregatedAt: latest([summary?.updatedAt, ...days.map((d) => d.updatedAt)]),
      /** The newest profile change and event folded in. */
      newestProfileChangeAt: summary?.newestChangeAt ?? null,
      newestEventAt: latest(days.map((d) => d.newestEventAt)),
      /** The change feed is read this often; figures trail writes by about this plus processing. */
      feedPollDelayMs: this.options.feedPollDelayMs,
      ...(status
        ? {
            failedInvocations: status.failedInvocations,
            lastFailureAt: status.lastFailureAt,
            lastError: status.lastError,
          }
        : { failedInvocations: 0 }),
    };
  }
}

function hourCounters(days: readonly DayDocument[]): Map<string, Counters> {
  const hours = new Map<string, Counters>();
  for (const day of days)
    for (const [hour, counters] of Object.entries(day.hours)) hours.set(`${day.day}T${hour}`, counters);
  return hours;
}

function isLostRace(error: unknown): boolean {
  return isStoreError(error, 'precondition-failed') || isStoreError(error, 'conflict');
}
