/**
 * CosmosDocumentStore's feed-range reads (cosmosdb-server has no change feed), over a stand-in for
 * the SDK's Container: getFeedRanges, read (for _rid) and getChangeFeedIterator, which reads the
 * start position the adapter asks for (beginning, now, or the LSN continuation it builds) the way
 * the SDK's iterator does, and answers with the SDK's composite continuation.
 */
import { CosmosDocumentStore } from '../../../shared/adapters/azure/cosmos-document-store';
import { ManualClock } from '../../helpers/test-services';

interface FakeRange {
  minInclusive: string;
  maxExclusive: string;
  lsn: number;
  items: { id: string; pk: string; type: string; body: unknown; tsMs: number; _lsn: number; _etag: string }[];
}

const token = (r: { minInclusive: string; maxExclusive: string }[], lsn: number) =>
  JSON.stringify({
    rid: 'rid-1',
    Continuation: r.map((x) => ({
      minInclusive: x.minInclusive,
      maxExclusive: x.maxExclusive,
      continuationToken: `"${lsn}"`,
    })),
  });

class FakeContainer {
  readonly ranges: FakeRange[] = [
    { minInclusive: '', maxExclusive: '80', lsn: 500, items: [] },
    { minInclusive: '80', maxExclusive: 'FF', lsn: 10, items: [] },
  ];
  /** Set to make the next read report that its range split. */
  splitNext = false;
  readonly starts: string[] = [];

  add(range: number, type: string, id: string): void {
    const r = this.ranges[range] as FakeRange;
    r.lsn += 1;
    r.items.push({ id, pk: id, type, body: { id }, tsMs: 1, _lsn: r.lsn, _etag: `"${r.lsn}"` });
  }

  async read() {
    return { resource: { id: 'state', _rid: 'rid-1' } };
  }

  async getFeedRanges() {
    return this.ranges.map((r) =>
      Object.freeze({ minInclusive: r.minInclusive, maxExclusive: r.maxExclusive }),
    );
  }

  readonly items = {
    getChangeFeedIterator: (options: { changeFeedStartFrom: unknown; maxItemCount: number }) => {
      const start = options.changeFeedStartFrom as {
        getCfResource(): unknown;
        constructor: { name: string };
      };
      let range: FakeRange;
      let position: number;
      const kind = start.constructor.name;
      this.starts.push(kind);
      if (kind === 'ChangeFeedStartFromContinuation') {
        const parsed = JSON.parse(start.getCfResource() as string) as {
          rid: string;
          Continuation: { minInclusive: string; maxExclusive: string; continuationToken: string }[];
        };
        expect(parsed.rid).toBe('rid-1');
        const [entry] = parsed.Continuation;
        range = this.ranges.find((r) => r.minInclusive === entry!.minInclusive) as FakeRange;
        position = Number(JSON.parse(entry!.continuationToken));
      } else {
        const feedRange = start.getCfResource() as { minInclusive: string };
        range = this.ranges.find((r) => r.minInclusive === feedRange.minInclusive) as FakeRange;
        position = kind === 'ChangeFeedStartFromNow' ? range.lsn : 0;
      }
      return {
        readNext: async () => {
          if (this.splitNext) {
            this.splitNext = false;
            const mid = { minInclusive: range.minInclusive, maxExclusive: '40' };
            const rest = { minInclusive: '40', maxExclusive: range.maxExclusive };
            return { statusCode: 200, result: [], continuationToken: token([mid, rest], position) };
          }
          const page =
            kind === 'ChangeFeedStartFromNow'
              ? []
              : range.items.filter((i) => i._lsn > position).slice(0, options.maxItemCount);
          const full = page.length >= options.maxItemCount;
          position = full ? (page[page.length - 1] as { _lsn: number })._lsn : range.lsn;
          return {
            statusCode: page.length === 0 ? 304 : 200,
            result: page,
            continuationToken: token([range], position),
          };
        },
      };
    },
  };
}

function makeStore(container: FakeContainer) {
  const database = {
    id: 'db',
    client: { dispose: () => undefined },
    container: () => container,
  };
  return new CosmosDocumentStore({
    database: database as unknown as ConstructorParameters<typeof CosmosDocumentStore>[0] extends {
      database: infer D;
    }
      ? D
      : never,
    clock: new ManualClock(),
  });
}

describe('CosmosDocumentStore feed ranges', () => {
  it('lists the physical ranges and reads each from the beginning, after an LSN, or only its position now', async () => {
    const container = new FakeContainer();
    const store = makeStore(container);
    for (let i = 0; i < 5; i++) container.add(0, i % 2 ? 'event' : 'profile', `a${i}`);
    container.add(1, 'event', 'b0');
    const ranges = await store.feedRanges('state');
    expect(ranges).toEqual([
      { min: '', max: '80' },
      { min: '80', max: 'FF' },
    ]);
    const all = await store.readFeedRange('state', ranges[0]!, { after: 0 });
    expect(all.items.map((d) => [d.id, d.seq])).toEqual([
      ['a0', 501],
      ['a1', 502],
      ['a2', 503],
      ['a3', 504],
      ['a4', 505],
    ]);
    expect(all.position).toBe(505);
    const events = await store.readFeedRange('state', ranges[0]!, { after: 502, types: ['event'] });
    expect(events.items.map((d) => d.id)).toEqual(['a3']);
    expect(events.position).toBe(505);
    expect(await store.readFeedRange('state', ranges[1]!, { after: 'now' })).toEqual({
      items: [],
      position: 11,
    });
    expect(container.starts).toEqual([
      'ChangeFeedStartFromBeginning',
      'ChangeFeedStartFromContinuation',
      'ChangeFeedStartFromNow',
    ]);
  });

  it('pages: a full page stops at its last item; a filter that finds too little reads on and says there is more', async () => {
    const container = new FakeContainer();
    const store = makeStore(container);
    for (let i = 0; i < 30; i++) container.add(0, 'profile', `p${i}`);
    container.add(0, 'event', 'e0');
    const page = await store.readFeedRange('state', { min: '', max: '80' }, { after: 0, maxItems: 10 });
    expect(page.items).toHaveLength(10);
    expect(page.position).toBe(510);
    const filtered = await store.readFeedRange(
      'state',
      { min: '', max: '80' },
      { after: 0, maxItems: 10, types: ['event'] },
    );
    expect(filtered.items.map((d) => d.id)).toEqual(['e0']);
    expect(filtered.position).toBe(531);
  });

  it('a range that is gone, or splits during the read, answers gone (the reader asks for the ranges again)', async () => {
    const container = new FakeContainer();
    const store = makeStore(container);
    expect(await store.readFeedRange('state', { min: '', max: '40' }, { after: 3 })).toEqual({
      items: [],
      position: 3,
      gone: true,
    });
    container.add(0, 'event', 'x');
    container.splitNext = true;
    expect((await store.readFeedRange('state', { min: '', max: '80' }, { after: 500 })).gone).toBe(true);
  });

  it('refuses a bad position or page size', async () => {
    const store = makeStore(new FakeContainer());
    for (const after of [-1, 1.5]) {
      await expect(store.readFeedRange('state', { min: '', max: '80' }, { after })).rejects.toMatchObject({
        code: 'invalid',
      });
    }
    await expect(
      store.readFeedRange('state', { min: '', max: '80' }, { after: 0, maxItems: 0 }),
    ).rejects.toMatchObject({
      code: 'invalid',
    });
  });
});
