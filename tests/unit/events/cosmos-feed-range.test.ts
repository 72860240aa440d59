/**
 * The Cosmos DB feed-range continuation the replay cursor builds from an LSN: the SDK itself must
 * read it as a feed-range continuation, and the adapter reads the SDK's answers back.
 */
import { ChangeFeedStartFrom } from '@azure/cosmos';
import { rangeContinuation, readRangeContinuation } from '../../../shared/adapters/azure/cosmos-feed-range';

describe('Cosmos feed-range continuation', () => {
  const range = { min: '05C1D', max: 'FF' };

  it('is a continuation the SDK accepts as a feed-range token, starting after the LSN', () => {
    const token = rangeContinuation('rid123==', range, 4321);
    const start = ChangeFeedStartFrom.Continuation(token) as unknown as {
      getResourceType(): number;
      getCfResourceJson(): {
        rid: string;
        Continuation: { minInclusive: string; maxExclusive: string; continuationToken: string }[];
      };
    };
    expect(start.getResourceType()).toBe(0); // ChangeFeedResourceType.FeedRange
    expect(start.getCfResourceJson()).toEqual({
      rid: 'rid123==',
      Continuation: [{ minInclusive: '05C1D', maxExclusive: 'FF', continuationToken: '"4321"' }],
    });
  });

  it('reads back the position, and notices a split or merge of the range', () => {
    expect(readRangeContinuation(rangeContinuation('r', range, 9), range)).toEqual({
      kind: 'position',
      lsn: 9,
    });
    const split = JSON.stringify({
      rid: 'r',
      Continuation: [
        { minInclusive: '05C1D', maxExclusive: '7F', continuationToken: '"9"' },
        { minInclusive: '7F', maxExclusive: 'FF', continuationToken: '"9"' },
      ],
    });
    expect(readRangeContinuation(split, range)).toEqual({ kind: 'changed' });
    expect(readRangeContinuation(rangeContinuation('r', { min: '', max: 'FF' }, 9), range)).toEqual({
      kind: 'changed',
    });
    expect(readRangeContinuation(undefined, range).kind).toBe('unreadable');
    expect(readRangeContinuation('{}', range).kind).toBe('unreadable');
    expect(readRangeContinuation('not json', range).kind).toBe('unreadable');
  });
});
