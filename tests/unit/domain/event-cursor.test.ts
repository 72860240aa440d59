import {
  advance,
  alignCursor,
  BEGINNING,
  covers,
  coversCursor,
  formatCursor,
  FULL_RANGE,
  parseCursor,
  positionIn,
  type EventCursor,
} from '../../../shared/domain/event-cursor';

const A = { min: '', max: '80' };
const B = { min: '80', max: 'FF' };
const A1 = { min: '', max: '40' };
const A2 = { min: '40', max: '80' };

describe('event cursor', () => {
  it('sequence cursors are 16 zero-padded digits; any 1-16 digits parse; 0 is the beginning', () => {
    const c = parseCursor('42', 'sequence')!;
    expect(formatCursor(c, 'sequence')).toBe('0000000000000042');
    expect(parseCursor('0000000000000042', 'sequence')).toEqual(c);
    expect(parseCursor('0', 'sequence')).toEqual(BEGINNING);
    expect(formatCursor(BEGINNING, 'sequence')).toBe('0000000000000000');
    for (const bad of ['', '-1', '1e3', '12345678901234567', ' 1', 'r1.e30']) {
      expect(parseCursor(bad, 'sequence')).toBeUndefined();
    }
  });

  it('partitioned cursors are opaque r1. tokens that round-trip; plain numbers other than 0 are refused', () => {
    const c: EventCursor = {
      ranges: [
        { ...B, lsn: 9 },
        { ...A, lsn: 700 },
      ],
      asOf: 1234,
    };
    const text = formatCursor(c, 'ranges');
    expect(text).toMatch(/^r1\.[A-Za-z0-9_-]+$/);
    expect(parseCursor(text, 'ranges')).toEqual({
      ranges: [
        { ...A, lsn: 700 },
        { ...B, lsn: 9 },
      ],
      asOf: 1234,
    });
    expect(parseCursor('0', 'ranges')).toEqual(BEGINNING);
    expect(formatCursor(BEGINNING, 'ranges')).toBe('0');
    expect(parseCursor('17', 'ranges')).toBeUndefined();
    expect(parseCursor(text, 'sequence')).toBeUndefined();
    const enc = (v: unknown) => `r1.${Buffer.from(JSON.stringify(v)).toString('base64url')}`;
    for (const bad of [
      enc({ p: [['80', '40', 1]] }), // min ≥ max
      enc({ p: [['', 'FF', 1.5]] }),
      enc({ p: [['', 'FF']] }),
      enc({ a: -1, p: [] }),
      enc({ p: 'x' }),
      enc(null),
      'r1.%%%',
    ]) {
      expect(parseCursor(bad, 'ranges')).toBeUndefined();
    }
  });

  it('a parent position holds for its children after a split; children inside a range give their least', () => {
    const parent: EventCursor = {
      ranges: [
        { ...A, lsn: 50 },
        { ...B, lsn: 7 },
      ],
    };
    expect(positionIn(parent, A1)).toBe(50);
    expect(positionIn(parent, A2)).toBe(50);
    const children: EventCursor = {
      ranges: [
        { ...A1, lsn: 60 },
        { ...A2, lsn: 55 },
        { ...B, lsn: 7 },
      ],
    };
    expect(positionIn(children, A)).toBe(55);
    expect(positionIn(BEGINNING, A)).toBe(0);
    expect(alignCursor(parent, [A1, A2, B]).ranges.map((r) => r.lsn)).toEqual([50, 50, 7]);
  });

  it('advance moves one range forward only, keeping the rest of a split parent', () => {
    const parent: EventCursor = {
      ranges: [
        { ...A, lsn: 50 },
        { ...B, lsn: 7 },
      ],
    };
    const moved = advance(parent, A1, 61, 10);
    expect(positionIn(moved, A1)).toBe(61);
    expect(positionIn(moved, A2)).toBe(50);
    expect(positionIn(moved, B)).toBe(7);
    expect(moved.asOf).toBe(10);
    expect(advance(moved, A1, 3).ranges).toEqual(moved.ranges); // never back
    expect(covers(moved, A1, 61)).toBe(true);
    expect(covers(moved, A2, 51)).toBe(false);
    expect(coversCursor(moved, parent)).toBe(true);
    expect(coversCursor(parent, moved)).toBe(false);
    const seq = advance(BEGINNING, FULL_RANGE, 5);
    expect(formatCursor(seq, 'sequence')).toBe('0000000000000005');
  });
});
