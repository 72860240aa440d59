/**
 * The change-feed continuation of @azure/cosmos v4 for one feed range, built from and read back as
 * an LSN. The SDK's token is JSON `{"rid": <container _rid>, "Continuation": [{"minInclusive",
 * "maxExclusive", "continuationToken"}]}` (CompositeContinuationToken), where `continuationToken` is
 * the range's change-feed ETag: the quoted LSN after which changes are returned (`"1234"`). That is
 * what lets a reader resume right after any single item: its `_lsn` is that ETag.
 *
 * The SDK names the token internal; tests/unit/events/cosmos-feed-range.test.ts pins the format,
 * and a token the SDK answers with in another shape makes reads fail loudly ('unavailable').
 */
import type { FeedRangeBounds } from '../../domain/event-cursor';

interface RangeContinuation {
  minInclusive: string;
  maxExclusive: string;
  continuationToken: string;
}

/** The SDK continuation that reads `range` after `lsn`. */
export function rangeContinuation(rid: string, range: FeedRangeBounds, lsn: number): string {
  const entry: RangeContinuation = {
    minInclusive: range.min,
    maxExclusive: range.max,
    continuationToken: `"${lsn}"`,
  };
  return JSON.stringify({ rid, Continuation: [entry] });
}

export type ReadBack =
  | { kind: 'position'; lsn: number }
  /** The token covers other ranges than the one read: it split or merged under the read. */
  | { kind: 'changed' }
  | { kind: 'unreadable'; reason: string };

/** The position a continuation the SDK returned stands at, for the one range that was read. */
export function readRangeContinuation(token: string | undefined, range: FeedRangeBounds): ReadBack {
  if (token === undefined) return { kind: 'unreadable', reason: 'no continuation' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(token);
  } catch {
    return { kind: 'unreadable', reason: 'continuation is not JSON' };
  }
  const list = (parsed as { Continuation?: unknown } | null)?.Continuation;
  if (!Array.isArray(list) || list.length === 0) return { kind: 'unreadable', reason: 'no ranges' };
  if (list.length !== 1) return { kind: 'changed' };
  const entry = list[0] as Partial<RangeContinuation>;
  if (entry.minInclusive !== range.min || entry.maxExclusive !== range.max) return { kind: 'changed' };
  const match = /^"?(\d+)"?$/.exec(String(entry.continuationToken ?? ''));
  if (!match) return { kind: 'unreadable', reason: `continuation ${String(entry.continuationToken)}` };
  return { kind: 'position', lsn: Number(match[1]) };
}
