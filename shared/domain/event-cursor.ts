/**
 * The replay cursor: the position in the event log after which a reader continues.
 *
 * A store's change feed is split into feed ranges; each is ordered on its own and positions (`lsn`)
 * compare only within one range. A cursor therefore holds a position per range.
 *
 * - Stores with one container-wide commit order (the embedded store) have one range covering every
 *   partition; their cursor is that range's position, the commit sequence of the last event covered,
 *   written as 16 zero-padded digits (`0000000000000042`; any 1-16 digits are accepted, `0` = the
 *   beginning). This is also the `sequence` attribute of their events.
 * - Partitioned stores (Cosmos DB: one range per physical partition) have opaque cursors:
 *   `r1.` + base64url(JSON `{"a": asOfMs, "p": [[min, max, lsn], …]}`), the position in every range
 *   (`min`/`max`: the range's effective-partition-key bounds) and the time as of which it was taken.
 *   `0` is their beginning too.
 *
 * A range that splits hands its position to its children (their positions continue the parent's);
 * a cursor taken before a split still resumes without a gap. Pure: no I/O.
 */

/** A feed range: effective partition keys from `min` (inclusive) to `max` (exclusive). */
export interface FeedRangeBounds {
  min: string;
  max: string;
}

/** The position reached in one range: everything at or before `lsn` is covered. */
export interface RangePosition extends FeedRangeBounds {
  lsn: number;
}

/** How a store's cursors are written: one plain sequence, or a position per range. */
export type CursorKind = 'sequence' | 'ranges';

export interface EventCursor {
  /** Positions by range; a range with no entry (or no overlapping entry) starts at the beginning. */
  ranges: readonly RangePosition[];
  /** Epoch ms as of which the positions were taken (partitioned stores): the retention check. */
  asOf?: number;
}

/** The one range of a store with a container-wide order. */
export const FULL_RANGE: FeedRangeBounds = { min: '', max: 'FF' };

const RANGED_PREFIX = 'r1.';
const SEQUENCE = /^\d{1,16}$/;
/** A cursor (and thus an SSE `Last-Event-ID` header) is bounded; 16 KiB is Node's whole header limit. */
export const MAX_CURSOR_LENGTH = 8192;
const MAX_RANGES = 512;

export const BEGINNING: EventCursor = { ranges: [] };

export function isBeginning(cursor: EventCursor): boolean {
  return cursor.ranges.every((r) => r.lsn === 0);
}

/** The cursor a text names, or undefined when it is not one of this kind's cursors. */
export function parseCursor(text: string, kind: CursorKind): EventCursor | undefined {
  if (text.length > MAX_CURSOR_LENGTH) return undefined;
  if (SEQUENCE.test(text)) {
    const seq = Number(text);
    if (kind === 'sequence') return seq === 0 ? BEGINNING : { ranges: [{ ...FULL_RANGE, lsn: seq }] };
    // A plain number means nothing across independent ranges, except the beginning.
    return seq === 0 ? BEGINNING : undefined;
  }
  if (kind !== 'ranges' || !text.startsWith(RANGED_PREFIX)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text.slice(RANGED_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const v = value as { a?: unknown; p?: unknown };
  if (typeof v !== 'object' || v === null || !Array.isArray(v.p) || v.p.length > MAX_RANGES) return undefined;
  if (v.a !== undefined && !(typeof v.a === 'number' && Number.isSafeInteger(v.a) && v.a >= 0))
    return undefined;
  const ranges: RangePosition[] = [];
  for (const entry of v.p as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) return undefined;
    const [min, max, lsn] = entry as unknown[];
    if (typeof min !== 'string' || typeof max !== 'string' || min.length > 128 || max.length > 128) {
      return undefined;
    }
    if (!(min < max) || typeof lsn !== 'number' || !Number.isSafeInteger(lsn) || lsn < 0) return undefined;
    ranges.push({ min, max, lsn });
  }
  return { ranges, ...(typeof v.a === 'number' ? { asOf: v.a } : {}) };
}

/** The text of a cursor: 16 digits for a sequence store, `r1.…` for a partitioned one. */
export function formatCursor(cursor: EventCursor, kind: CursorKind): string {
  if (kind === 'sequence') {
    const lsn = cursor.ranges.reduce((max, r) => Math.max(max, r.lsn), 0);
    return String(lsn).padStart(16, '0');
  }
  if (isBeginning(cursor) && cursor.asOf === undefined) return '0';
  const json = JSON.stringify({
    ...(cursor.asOf !== undefined ? { a: cursor.asOf } : {}),
    p: [...cursor.ranges].sort(byMin).map((r) => [r.min, r.max, r.lsn]),
  });
  return RANGED_PREFIX + Buffer.from(json).toString('base64url');
}

const byMin = (a: FeedRangeBounds, b: FeedRangeBounds) => (a.min < b.min ? -1 : a.min > b.min ? 1 : 0);

const overlaps = (a: FeedRangeBounds, b: FeedRangeBounds) => a.min < b.max && b.min < a.max;
const contains = (outer: FeedRangeBounds, inner: FeedRangeBounds) =>
  outer.min <= inner.min && inner.max <= outer.max;

/**
 * Where a cursor stands in one of the store's current ranges. A cursor entry containing the range
 * (the same range, or its parent before a split) gives its position. Entries inside the range (it
 * merged, or the reader's view of the ranges is older than the cursor) give the least of theirs:
 * a reader may then see some events again, never miss one. No overlapping entry: the beginning.
 */
export function positionIn(cursor: EventCursor, range: FeedRangeBounds): number {
  let inner: number | undefined;
  for (const entry of cursor.ranges) {
    if (!overlaps(entry, range)) continue;
    if (contains(entry, range)) return entry.lsn;
    inner = Math.min(inner ?? Infinity, entry.lsn);
  }
  return inner ?? 0;
}

/** The cursor restated over the store's current ranges (one entry per range). */
export function alignCursor(cursor: EventCursor, ranges: readonly FeedRangeBounds[]): EventCursor {
  return {
    ranges: ranges.map((r) => ({ min: r.min, max: r.max, lsn: positionIn(cursor, r) })),
    ...(cursor.asOf !== undefined ? { asOf: cursor.asOf } : {}),
  };
}

/** Has the cursor passed the item at `lsn` in `range`? */
export function covers(cursor: EventCursor, range: FeedRangeBounds, lsn: number): boolean {
  return positionIn(cursor, range) >= lsn;
}

/** Does `cursor` cover everything `other` covers (in every range of `other`)? */
export function coversCursor(cursor: EventCursor, other: EventCursor): boolean {
  return other.ranges.every((r) => positionIn(cursor, r) >= r.lsn);
}

/**
 * The cursor moved to `lsn` in `range` (never back). Entries overlapping `range` without being it
 * (a parent before a split, or children the caller's view does not know yet) are cut so that the
 * parts outside `range` keep their positions; `asOf` only moves forward.
 */
export function advance(
  cursor: EventCursor,
  range: FeedRangeBounds,
  lsn: number,
  asOf?: number,
): EventCursor {
  const time = asOf === undefined ? cursor.asOf : Math.max(asOf, cursor.asOf ?? 0);
  const withTime = (ranges: RangePosition[]): EventCursor => ({
    ranges,
    ...(time !== undefined ? { asOf: time } : {}),
  });
  const exact = cursor.ranges.findIndex((r) => r.min === range.min && r.max === range.max);
  if (exact >= 0 && cursor.ranges.every((r, i) => i === exact || !overlaps(r, range))) {
    // The common case: the cursor is aligned with the reader's ranges.
    const entry = cursor.ranges[exact] as RangePosition;
    if (lsn <= entry.lsn) return time === cursor.asOf ? cursor : withTime([...cursor.ranges]);
    const ranges = [...cursor.ranges];
    ranges[exact] = { ...entry, lsn };
    return withTime(ranges);
  }
  const from = positionIn(cursor, range);
  const ranges: RangePosition[] = [];
  for (const entry of cursor.ranges) {
    if (!overlaps(entry, range)) {
      ranges.push(entry);
      continue;
    }
    if (entry.min < range.min) ranges.push({ min: entry.min, max: range.min, lsn: entry.lsn });
    if (range.max < entry.max) ranges.push({ min: range.max, max: entry.max, lsn: entry.lsn });
  }
  ranges.push({ min: range.min, max: range.max, lsn: Math.max(from, lsn) });
  return withTime(ranges.sort(byMin));
}

/** A stable key for a range, for maps. */
export const rangeKey = (range: FeedRangeBounds): string => `${range.min}|${range.max}`;
