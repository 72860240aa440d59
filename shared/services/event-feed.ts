import { EVENT_DOC_TYPE } from '../domain/cloud-event';
import { FULL_RANGE, type CursorKind, type FeedRangeBounds } from '../domain/event-cursor';
import type { DocumentCollection, FeedRangePage } from '../ports/document-store';

/**
 * The event documents' change feed as the replay cursor sees it: a set of feed ranges, each read
 * after a position. A partitioned store (Cosmos DB) gives its own ranges; a store with one
 * container-wide order is one range whose position is the commit sequence.
 */
export interface EventFeed {
  readonly kind: CursorKind;
  /** The store's current ranges; `refresh` asks again instead of using the last answer. */
  ranges(refresh?: boolean): Promise<readonly FeedRangeBounds[]>;
  /** Event documents of one range after `after`, or (`'now'`) only the range's position now. */
  read(range: FeedRangeBounds, after: number | 'now', maxItems: number): Promise<FeedRangePage>;
}

const TYPES = [EVENT_DOC_TYPE];

export function eventFeedOf(store: DocumentCollection): EventFeed {
  if (store.feedRanges && store.readFeedRange) return partitionedFeed(store);
  return sequenceFeed(store);
}

/** One range: the container-wide change feed, which resumes from `String(seq)` (the port's rule). */
function sequenceFeed(store: DocumentCollection): EventFeed {
  return {
    kind: 'sequence',
    ranges: async () => [FULL_RANGE],
    async read(_range, after, maxItems) {
      if (after === 'now') throw new Error('a sequence feed has no position query; walk it instead');
      const page = await store.changeFeed({ continuation: String(after), maxItems, types: TYPES });
      const position = Number(page.continuation);
      if (!Number.isSafeInteger(position)) {
        throw new Error('the store has no feed ranges and its change feed does not continue from sequences');
      }
      return { items: page.items, position };
    },
  };
}

function partitionedFeed(store: DocumentCollection): EventFeed {
  let cached: Promise<readonly FeedRangeBounds[]> | undefined;
  return {
    kind: 'ranges',
    ranges(refresh = false) {
      if (refresh || !cached) {
        const asked = (store.feedRanges?.() as Promise<FeedRangeBounds[]>).then((ranges) =>
          [...ranges].sort((a, b) => (a.min < b.min ? -1 : a.min > b.min ? 1 : 0)),
        );
        cached = asked;
        // A failed answer is not kept: the next call asks again.
        asked.catch(() => {
          if (cached === asked) cached = undefined;
        });
      }
      return cached;
    },
    read: (range, after, maxItems) =>
      store.readFeedRange?.(range, { after, maxItems, types: TYPES }) as Promise<FeedRangePage>,
  };
}
