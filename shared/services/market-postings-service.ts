import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentCollection } from '../ports/document-store';
import { actorIdOf, type Principal } from './principal';
import type { JobTitleService } from './job-title-service';

/**
 * Job-posting counts per title and period, imported by admins and services (POST /api/market/postings)
 * and read by the market operation. Counts are stored per normalised taxonomy title id: partition
 * `market:<titleId>`, one document per period (`period:<period>`), so "Sr. SWE" and "Senior Software
 * Engineer" feed one series. A period is a month ("2025-03") or an ISO week ("2025-W07"). Importing
 * a period again replaces its count.
 */

export const MARKET_POSTING_TYPE = 'market-posting';
export const MAX_POSTINGS_PER_IMPORT = 5000;
const marketPartition = (titleId: string) => `market:${titleId}`;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const WEEK = /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/;
const DAY_MS = 86_400_000;

export type Granularity = 'month' | 'week';

/** A period's granularity and its position on an evenly spaced axis; undefined when it is not a period. */
export function parsePeriod(period: string): { granularity: Granularity; ordinal: number } | undefined {
  const m = MONTH.exec(period);
  if (m) return { granularity: 'month', ordinal: Number(m[1]) * 12 + Number(m[2]) - 1 };
  const w = WEEK.exec(period);
  if (!w) return undefined;
  const year = Number(w[1]);
  const week = Number(w[2]);
  const jan4 = Date.UTC(year, 0, 4);
  const week1Monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  const monday = week1Monday + (week - 1) * 7 * DAY_MS;
  // Week 53 exists only in years whose ISO calendar has it: its Thursday must still be in `year`.
  if (new Date(monday + 3 * DAY_MS).getUTCFullYear() !== year) return undefined;
  return { granularity: 'week', ordinal: Math.round(monday / (7 * DAY_MS)) };
}

export interface PostingInput {
  title: string;
  period: string;
  count: number;
}

export interface PostingRowReport {
  /** 1-based position in `postings`. */
  row: number;
  title: string;
  period: string;
  titleId: string | null;
  normalizedTitle?: string;
  ok: boolean;
  errors: string[];
}

export interface PostingsImportReport {
  /** All-or-nothing: true when every row was valid and stored. */
  applied: boolean;
  rows: PostingRowReport[];
  summary: { rows: number; ok: number; failed: number; titles: number };
}

interface PostingDocument {
  titleId: string;
  period: string;
  granularity: Granularity;
  ordinal: number;
  count: number;
  updatedAt: string;
  by: string;
}

export interface PostingSeries {
  titleId: string | null;
  granularity: Granularity | null;
  /** The most recent run of consecutive periods: what the trend is computed from (gaps are not filled). */
  points: { period: string; count: number }[];
  /** Periods stored for the title in all. */
  storedPeriods: number;
  /** Stored periods left out because a gap separates them from the latest run (or another granularity). */
  excludedPeriods: number;
}

export class MarketPostingsService {
  constructor(
    private readonly store: DocumentCollection,
    private readonly clock: Clock,
    private readonly titles: JobTitleService,
  ) {}

  /** Validates every row (the title must normalise to a taxonomy title); stores them only when all are valid. */
  async import(postings: readonly PostingInput[], principal: Principal): Promise<PostingsImportReport> {
    const rows: PostingRowReport[] = [];
    const byTitle = new Map<string, Map<string, PostingDocument>>();
    const at = new Date(this.clock.now()).toISOString();
    // Normalising a title costs milliseconds: each distinct title once, all on the compute worker.
    const distinct = [...new Set(postings.map((p) => p.title))];
    const resolutions = await this.titles.titleIdsOf(distinct);
    const known = new Map(distinct.map((title, i) => [title, resolutions[i]]));
    for (const [i, p] of postings.entries()) {
      const errors: string[] = [];
      const period = parsePeriod(p.period);
      if (!period) errors.push(`period "${p.period}" is not a month (YYYY-MM) or an ISO week (YYYY-Www)`);
      if (!Number.isInteger(p.count) || p.count < 0) errors.push('count must be a whole number ≥ 0');
      const resolved = known.get(p.title);
      if (!resolved) throw new Error(`no normalisation of "${p.title}"`);
      const { titleId, normalizedTitle } = resolved;
      if (!titleId)
        errors.push(`title "${p.title}" is not in the taxonomy (normalised: "${normalizedTitle}")`);
      rows.push({
        row: i + 1,
        title: p.title,
        period: p.period,
        titleId,
        normalizedTitle,
        ok: errors.length === 0,
        errors,
      });
      if (errors.length > 0 || !titleId || !period) continue;
      const docs = byTitle.get(titleId) ?? new Map<string, PostingDocument>();
      docs.set(p.period, {
        titleId,
        period: p.period,
        ...period,
        count: p.count,
        updatedAt: at,
        by: actorIdOf(principal),
      });
      byTitle.set(titleId, docs);
    }
    const failed = rows.filter((r) => !r.ok).length;
    const summary = { rows: rows.length, ok: rows.length - failed, failed, titles: byTitle.size };
    if (failed > 0) return { applied: false, rows, summary };
    for (const [titleId, docs] of byTitle) {
      // One transactional batch per title (≤ 100 operations each): a title's series never shows half an import chunk.
      const ops: BatchOperation[] = [...docs.values()].map((d) => ({
        op: 'upsert',
        id: `period:${d.period}`,
        type: MARKET_POSTING_TYPE,
        body: d,
      }));
      for (let i = 0; i < ops.length; i += 100)
        await this.store.batch(marketPartition(titleId), ops.slice(i, i + 100));
    }
    return { applied: true, rows, summary };
  }

  /** The stored series of a title: its most recent run of consecutive periods, oldest first. */
  async series(titleId: string | null): Promise<PostingSeries> {
    if (!titleId) return { titleId, granularity: null, points: [], storedPeriods: 0, excludedPeriods: 0 };
    const docs: PostingDocument[] = [];
    let continuation: string | undefined;
    do {
      const page = await this.store.query<PostingDocument>({
        type: MARKET_POSTING_TYPE,
        pk: marketPartition(titleId),
        limit: 1000,
        ...(continuation ? { continuation } : {}),
      });
      docs.push(...page.items.map((d) => d.body));
      continuation = page.continuation;
    } while (continuation);
    if (docs.length === 0)
      return { titleId, granularity: null, points: [], storedPeriods: 0, excludedPeriods: 0 };
    // The granularity of the latest data wins when a title has both months and weeks.
    const latest = docs.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a));
    const same = docs
      .filter((d) => d.granularity === latest.granularity)
      .sort((a, b) => a.ordinal - b.ordinal);
    let start = same.length - 1;
    while (start > 0 && same[start - 1]!.ordinal === same[start]!.ordinal - 1) start--;
    const run = same.slice(start);
    return {
      titleId,
      granularity: latest.granularity,
      points: run.map((d) => ({ period: d.period, count: d.count })),
      storedPeriods: docs.length,
      excludedPeriods: docs.length - run.length,
    };
  }
}
