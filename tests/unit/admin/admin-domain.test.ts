/**
 * The pure parts of the admin operations: analytics aggregation and queries, the export line
 * check, CV skill extraction, content templates, and the streaming NDJSON reader.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import {
  addCounters,
  answerQuery,
  applyProfileChange,
  customQuerySchema,
  emptyUsersSummary,
  eventContribution,
  MAX_GROUPS_PER_HOUR,
  pruneUsersSummary,
  resolveRange,
  sumHours,
  type ProfileChange,
  type UserTracker,
} from '../../../shared/domain/admin/analytics';
import { contentRequestSchema, templateDraft } from '../../../shared/domain/admin/content-templates';
import { profileSkills, skillsInText } from '../../../shared/domain/admin/enrichment';
import { parseImportLine } from '../../../shared/domain/admin/export-format';
import { maybeGunzip, ndjsonLines } from '../../../shared/services/admin/ndjson';

const T0 = Date.parse('2026-11-20T10:30:00Z');
const H = 3_600_000;

describe('analytics: users summary', () => {
  const change = (over: Partial<ProfileChange>): ProfileChange => ({
    userId: 'u1',
    deleted: false,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    lastUserActivityAt: null,
    title: null,
    ...over,
  });

  it('counts a creation once, however often the same profile is seen again', () => {
    let { summary, tracker } = applyProfileChange(
      emptyUsersSummary(),
      undefined,
      change({ title: 'Data Engineer' }),
    );
    for (let i = 0; i < 3; i++)
      ({ summary, tracker } = applyProfileChange(summary, tracker, change({ title: 'Data Engineer' })));
    expect(summary.total).toBe(1);
    expect(summary.createdByHour).toEqual({ '2026-11-20T10': 1 });
    expect(summary.titles).toEqual({ 'Data Engineer': 1 });
  });

  it('moves a user between activity hours and titles, and forgets them on delete', () => {
    let { summary, tracker } = applyProfileChange(
      emptyUsersSummary(),
      undefined,
      change({ lastUserActivityAt: new Date(T0).toISOString(), title: 'A' }),
    );
    ({ summary, tracker } = applyProfileChange(
      summary,
      tracker,
      change({
        lastUserActivityAt: new Date(T0 + 2 * H).toISOString(),
        title: 'B',
        updatedAt: new Date(T0 + 2 * H).toISOString(),
      }),
    ));
    expect(summary.activeByLastHour).toEqual({ '2026-11-20T12': 1 });
    expect(summary.titles).toEqual({ B: 1 });
    ({ summary, tracker } = applyProfileChange(
      summary,
      tracker,
      change({ deleted: true, updatedAt: new Date(T0 + 3 * H).toISOString() }),
    ));
    expect(summary).toMatchObject({
      total: 0,
      activeByLastHour: {},
      titles: {},
      deletedByHour: { '2026-11-20T13': 1 },
    });
    expect(tracker.alive).toBe(false);
    // The deletion seen again changes nothing.
    const again = applyProfileChange(
      summary,
      tracker,
      change({ deleted: true, updatedAt: new Date(T0 + 3 * H).toISOString() }),
    );
    expect(again.summary).toEqual(summary);
  });

  it('a profile re-created between two looks counts as a deletion and a creation', () => {
    const first = applyProfileChange(emptyUsersSummary(), undefined, change({}));
    const recreated = applyProfileChange(
      first.summary,
      first.tracker,
      change({ createdAt: new Date(T0 + 5 * H).toISOString() }),
    );
    expect(recreated.summary.total).toBe(1);
    expect(Object.values(recreated.summary.createdByHour).reduce((a, b) => a + b)).toBe(2);
    expect(Object.values(recreated.summary.deletedByHour).reduce((a, b) => a + b)).toBe(1);
  });

  it('property: any sequence of changes, replayed in full, leaves the same summary (idempotent folding)', () => {
    const arbChange = fc.record({
      userId: fc.constantFrom('a', 'b', 'c'),
      deleted: fc.boolean(),
      createdHour: fc.integer({ min: 0, max: 3 }),
      activeHour: fc.option(fc.integer({ min: 0, max: 50 }), { nil: null }),
      title: fc.option(fc.constantFrom('X', 'Y'), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(arbChange, { maxLength: 30 }), (changes) => {
        const trackers = new Map<string, UserTracker>();
        let summary = emptyUsersSummary();
        const fold = () => {
          for (const c of changes) {
            const result = applyProfileChange(summary, trackers.get(c.userId), {
              userId: c.userId,
              deleted: c.deleted,
              createdAt: new Date(T0 + c.createdHour * H).toISOString(),
              updatedAt: new Date(T0 + 60 * H).toISOString(),
              lastUserActivityAt:
                c.activeHour === null ? null : new Date(T0 + c.activeHour * H).toISOString(),
              title: c.title,
            });
            summary = result.summary;
            trackers.set(c.userId, result.tracker);
          }
        };
        fold();
        const once = structuredClone(summary);
        // The live users the trackers say are alive are exactly the total.
        expect(once.total).toBe([...trackers.values()].filter((t) => t.alive).length);
        const last = new Map(changes.map((c) => [c.userId, c]));
        fold(); // the feed redelivers everything: only the last state of each user matters
        for (const [userId, c] of last) {
          const result = applyProfileChange(summary, trackers.get(userId), {
            userId,
            deleted: c.deleted,
            createdAt: new Date(T0 + c.createdHour * H).toISOString(),
            updatedAt: new Date(T0 + 60 * H).toISOString(),
            lastUserActivityAt: c.activeHour === null ? null : new Date(T0 + c.activeHour * H).toISOString(),
            title: c.title,
          });
          expect(result.summary).toEqual(summary);
        }
        expect(summary.total).toBe(once.total);
        expect(Object.values(summary.titles).every((n) => n > 0)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('windows sum the last N hours including the current one; pruning drops old buckets', () => {
    const map = { '2026-11-20T10': 1, '2026-11-19T11': 2, '2026-11-19T10': 4, '2026-10-01T00': 8 };
    expect(sumHours(map, T0, 24)).toBe(3);
    expect(sumHours(map, T0, 25)).toBe(7);
    const pruned = pruneUsersSummary({ ...emptyUsersSummary(), createdByHour: map }, T0);
    expect(pruned.createdByHour).not.toHaveProperty('2026-10-01T00');
  });
});

describe('analytics: event counters', () => {
  it('counts syncs and conflicts by writer, tokens by operation, analyses by provider', () => {
    expect(
      eventContribution({
        type: 'user_update',
        time: '2026-11-20T10:05:00Z',
        data: { writer: 'user', conflicts: [{ field: 'a' }, { field: 'b' }] },
      }),
    ).toEqual({
      hour: '2026-11-20T10',
      counters: { 'events|user_update': 1, 'syncs|user': 1, 'conflicts|user': 2 },
    });
    expect(
      eventContribution({
        type: 'tokens_charged',
        time: '2026-11-20T10:05:00Z',
        data: { operation: 'market', amount: 7 },
      })?.counters,
    ).toEqual({ 'events|tokens_charged': 1, 'token_charges|market': 1, 'tokens_spent|market': 7 });
    expect(
      eventContribution({
        type: 'analysis_complete',
        time: '2026-11-20T10:05:00Z',
        data: { analysis: 'comprehensive', provider: 'heuristic', degraded: true },
      })?.counters,
    ).toEqual({ 'events|analysis_complete': 1, 'analyses|heuristic': 1, 'analyses_degraded|heuristic': 1 });
    expect(eventContribution({ type: 'x', time: 'not a time', data: null })).toBeUndefined();
  });

  it('caps the groups of one metric per hour, folding the rest into (other)', () => {
    let counters = {};
    for (let i = 0; i < MAX_GROUPS_PER_HOUR + 50; i++)
      counters = addCounters(counters, { [`events|t${i}`]: 1 });
    const keys = Object.keys(counters);
    expect(keys.length).toBe(MAX_GROUPS_PER_HOUR + 1);
    expect(counters).toHaveProperty(['events|(other)'], 50);
  });
});

describe('analytics: custom queries', () => {
  const parse = (q: unknown) => customQuerySchema.safeParse(q);

  it('accepts metric × group-by × range × bucket and refuses mismatched groupings and ranges', () => {
    expect(parse({ metric: 'syncs', groupBy: 'writer', range: { last: '7d' }, bucket: 'day' }).success).toBe(
      true,
    );
    expect(
      parse({ metric: 'syncs', groupBy: 'provider', range: { last: '7d' }, bucket: 'day' }).success,
    ).toBe(false);
    expect(
      parse({ metric: 'users_created', groupBy: 'writer', range: { last: '7d' }, bucket: 'day' }).success,
    ).toBe(false);
    expect(parse({ metric: 'nope', range: { last: '7d' }, bucket: 'day' }).success).toBe(false);
    expect(
      parse({
        metric: 'syncs',
        range: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
        bucket: 'day',
      }).success,
    ).toBe(false);
    expect(parse({ metric: 'syncs', range: { last: '7d' }, bucket: 'day', extra: 1 }).success).toBe(false);
  });

  it('bounds the buckets and the reach of hourly data', () => {
    const q = (bucket: 'hour' | 'day', last: '7d' | '30d' | '365d', metric = 'syncs') =>
      customQuerySchema.parse({ metric, range: { last }, bucket });
    expect(resolveRange(q('hour', '7d'), T0)).not.toHaveProperty('error');
    expect(resolveRange(q('hour', '30d'), T0)).toHaveProperty('error'); // 720 hour buckets
    expect(resolveRange(q('day', '365d'), T0)).not.toHaveProperty('error');
    expect(resolveRange(q('hour', '7d', 'users_created'), T0 + 40 * 86_400_000)).not.toHaveProperty('error');
  });

  it('buckets samples into series with totals, groups ordered by size', () => {
    const query = customQuerySchema.parse({
      metric: 'syncs',
      groupBy: 'writer',
      range: { last: '24h' },
      bucket: 'hour',
    });
    const range = resolveRange(query, T0);
    if ('error' in range) throw new Error(range.error);
    const answer = answerQuery(query, range, [
      { at: T0 - 2 * H, group: 'user', value: 2 },
      { at: T0 - 2 * H, group: 'admin', value: 1 },
      { at: T0, group: 'user', value: 3 },
      { at: T0 - 48 * H, group: 'user', value: 100 }, // outside the range
    ]);
    expect(answer.total).toBe(6);
    expect(answer.series.map((s) => [s.group, s.total])).toEqual([
      ['user', 5],
      ['admin', 1],
    ]);
    expect(answer.series[0]?.points.filter((p) => p.value > 0)).toEqual([
      { start: '2026-11-20T08:00:00.000Z', value: 2 },
      { start: '2026-11-20T10:00:00.000Z', value: 3 },
    ]);
  });
});

describe('import lines', () => {
  it('accepts user lines (export or hand-written), skips header and events, rejects the rest with a reason', () => {
    expect(parseImportLine('{"kind":"user","userId":"ann","data":{"a":1},"version":3}')).toEqual({
      kind: 'user',
      userId: 'ann',
      data: { a: 1 },
    });
    expect(parseImportLine('{"userId":"bob","data":{"b":true}}').kind).toBe('user');
    expect(parseImportLine('{"kind":"header","format":"portal-bridge-users","version":1}').kind).toBe('skip');
    expect(parseImportLine('{"kind":"event","event":{}}').kind).toBe('skip');
    expect(parseImportLine('   ').kind).toBe('skip');
    const reasons = [
      'not json',
      '[1,2]',
      '{"kind":"header","format":"other"}',
      '{"userId":"a/b","data":{"x":1}}',
      '{"userId":"a","data":{}}',
      '{"userId":"a","data":{"bad field":1}}',
      '{"userId":"a","data":{"x":{"__proto__":{"polluted":1}}}}',
      `{"userId":"a","data":{"x":${'['.repeat(40)}${']'.repeat(40)}}}`,
      '{"kind":"nope","userId":"a","data":{"x":1}}',
    ].map((line) => parseImportLine(line));
    for (const r of reasons) {
      expect(r.kind).toBe('reject');
      expect((r as { reason: string }).reason.length).toBeGreaterThan(3);
    }
  });
});

describe('enrichment', () => {
  it('finds vocabulary skills named as whole words in a CV, in any case, never parts of words', () => {
    const vocabulary = ['SQL', 'Python', 'C++', 'Node.js', 'machine learning', 'Go', 'R'];
    const text =
      'Built ETL in python and NoSQL stores; Node.js services; some Machine Learning; Google; C++.';
    expect(skillsInText(text, vocabulary)).toEqual(['Python', 'C++', 'Node.js', 'machine learning']);
  });

  it('reads profile skills from an array or a separated string', () => {
    expect(profileSkills({ skills: ['SQL', 'sql', ' Python '] })).toEqual(['SQL', 'Python']);
    expect(profileSkills({ skills: 'Go; Rust, Go' })).toEqual(['Go', 'Rust']);
    expect(profileSkills({ skills: 5 })).toEqual([]);
  });
});

describe('content templates', () => {
  it('restate only the input, and mark what is missing as placeholders', () => {
    const request = contentRequestSchema.parse({
      kind: 'outreach_email',
      input: { candidateName: 'Ann', jobTitle: 'Data Engineer' },
    });
    const { output, placeholders } = templateDraft(request);
    expect(placeholders).toEqual(['company', 'sender name']);
    const body = JSON.stringify(output);
    expect(body).toContain('Ann');
    expect(body).toContain('Data Engineer');
    expect(body).toContain('[company]');
    const summary = templateDraft(
      contentRequestSchema.parse({
        kind: 'profile_summary',
        input: { jobTitle: 'Analyst', skills: ['SQL'], experienceYears: 1 },
      }),
    );
    expect(summary.output).toMatchObject({ headline: 'Analyst', bullets: ['SQL'] });
    expect((summary.output as { summary: string }).summary).toBe(
      'A Analyst with 1 year of experience. Skills: SQL. [achievements]',
    );
  });
});

describe('NDJSON reader', () => {
  const chunks = async function* (buffer: Buffer, size: number) {
    for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
  };
  const collect = async (source: AsyncIterable<unknown>) => {
    const out: unknown[] = [];
    for await (const item of source) out.push(item);
    return out;
  };

  it('splits lines across chunk borders, plain or gzip, and reports an over-long line without keeping it', async () => {
    const text = `{"a":1}\r\n${'x'.repeat(100)}\n\n{"b":2}`;
    for (const body of [Buffer.from(text), gzipSync(Buffer.from(text))]) {
      for (const size of [1, 3, 1000]) {
        const lines = await collect(ndjsonLines(maybeGunzip(chunks(body, size)), 50));
        expect(lines).toEqual([
          { kind: 'line', number: 1, text: '{"a":1}' },
          { kind: 'too-long', number: 2 },
          { kind: 'line', number: 3, text: '' },
          { kind: 'line', number: 4, text: '{"b":2}' },
        ]);
      }
    }
  });

  it('a source that fails mid-way fails the reader instead of leaving it waiting', async () => {
    const body = gzipSync(Buffer.from('{"a":1}\n'.repeat(1000)));
    const failing = async function* () {
      yield body.subarray(0, 100);
      throw new Error('connection reset');
    };
    await expect(collect(ndjsonLines(maybeGunzip(failing()), 1000))).rejects.toThrow('connection reset');
  });
});
