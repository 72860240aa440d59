/**
 * Handlers of the job-title and token routes (test-mode HttpRequest / InvocationContext over real
 * services on a fresh embedded store): metering, 402, idempotency, concurrency, ledger, imports.
 */
import { invokeHandler } from '../../helpers/invoke-handler';
import { type HttpHandler } from '@azure/functions';
import { setServices, type Services } from '../../../shared/container';
import { jobTitlesAnalyze } from '../../../functions/job-titles-analyze';
import { jobTitlesMarketGet } from '../../../functions/job-titles-market-get';
import { metricsGet } from '../../../functions/metrics-get';
import { jobTitlesPathwaysGet } from '../../../functions/job-titles-pathways-get';
import { marketPostingsImport } from '../../../functions/market-postings-import';
import { jobTitlesRelationshipsGet } from '../../../functions/job-titles-relationships-get';
import { jobTitlesTaxonomyImport } from '../../../functions/job-titles-taxonomy-import';
import { tokensGet } from '../../../functions/tokens-get';
import { tokensGrant } from '../../../functions/tokens-grant';
import { jobTitlesWordCloudCreate } from '../../../functions/job-titles-word-cloud-create';
import { TEST_ADMIN_KEY, makeTestServices } from '../../helpers/test-services';

interface Call {
  method?: string;
  key?: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: string | object;
  headers?: Record<string, string>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

async function call(
  handler: HttpHandler,
  { method = 'GET', key = TEST_ADMIN_KEY, params = {}, query = {}, body, headers = {} }: Call,
) {
  const res = await invokeHandler(handler, { method, key, params, query, body, headers });
  const isJson = /json/.test(res.headers.get('content-type') ?? '');
  return {
    status: res.status,
    headers: res.headers,
    raw: res.raw,
    json: (isJson && res.raw ? JSON.parse(res.raw) : undefined) as AnyJson,
  };
}

const grant = (userId: string, amount: number, headers: Record<string, string> = {}) =>
  call(tokensGrant, { method: 'POST', params: { userId }, body: { amount, reason: 'test' }, headers });
const analyze = (userId: string, title: string, key: string, headers: Record<string, string> = {}) =>
  call(jobTitlesAnalyze, { method: 'POST', key, body: { userId, title }, headers });

describe('job-title and token routes', () => {
  let services: Services;
  let cleanup: () => Promise<void>;
  let userKey: string;
  let serviceKey: string;

  beforeEach(async () => {
    ({ services, cleanup } = makeTestServices());
    setServices(services);
    userKey = (await services.apiKeys.issue('user', 'user portal')).key;
    serviceKey = (await services.apiKeys.issue('service', 'matching')).key;
  });
  afterEach(async () => {
    setServices(undefined);
    await cleanup();
  });

  it('grants (admin only) and reads the balance and ledger', async () => {
    expect(
      (
        await call(tokensGrant, {
          method: 'POST',
          key: userKey,
          params: { userId: 'ann' },
          body: { amount: 5 },
        })
      ).status,
    ).toBe(403);
    expect(
      (await call(tokensGrant, { method: 'POST', params: { userId: 'ann' }, body: { amount: 0 } })).status,
    ).toBe(400);
    const g = await grant('ann', 30);
    expect(g.status).toBe(200);
    expect(g.json).toMatchObject({ userId: 'ann', granted: 30, balance: 30 });
    const read = await call(tokensGet, { key: userKey, params: { userId: 'ann' } });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ userId: 'ann', balance: 30, granted: 30, spent: 0, next: null });
    expect(read.json.ledger).toHaveLength(1);
    expect(read.json.ledger[0]).toMatchObject({
      kind: 'grant',
      amount: 30,
      balanceAfter: 30,
      reason: 'test',
    });
    expect((await call(tokensGet, { params: { userId: 'bad id' } })).status).toBe(400);
    expect((await call(tokensGet, { params: { userId: 'ann' }, query: { limit: '0' } })).status).toBe(400);
  });

  it('word cloud: JSON terms with weights and SVG, ?format=svg answers image/svg+xml; charged per call', async () => {
    await grant('ann', 10);
    const titles = ['Sr. Software Engineer', 'Software Engineer', 'Data Scientist', 'software developer'];
    const res = await call(jobTitlesWordCloudCreate, {
      method: 'POST',
      key: userKey,
      body: { userId: 'ann', titles },
    });
    expect(res.status).toBe(200);
    expect(res.json.terms[0]).toMatchObject({ weight: 1 });
    expect(res.json.svg).toMatch(/^<svg /);
    expect(res.json.tokens).toMatchObject({ userId: 'ann', operation: 'word-cloud', charged: 5, balance: 5 });
    const svg = await call(jobTitlesWordCloudCreate, {
      method: 'POST',
      key: userKey,
      query: { format: 'svg' },
      body: { userId: 'ann', titles },
    });
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svg.raw).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg.headers.get('x-tokens-balance')).toBe('0');
    const short = await call(jobTitlesWordCloudCreate, {
      method: 'POST',
      key: userKey,
      body: { userId: 'ann', titles },
    });
    expect(short.status).toBe(402);
    expect(short.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(
      (await call(jobTitlesWordCloudCreate, { method: 'POST', body: { userId: 'ann', titles: [] } })).status,
    ).toBe(400);
    expect(
      (
        await call(jobTitlesWordCloudCreate, {
          method: 'POST',
          query: { format: 'png' },
          body: { userId: 'ann', titles },
        })
      ).status,
    ).toBe(400);
  });

  it('analyze, pathways and relationships answer and charge their costs; userId is required', async () => {
    await grant('bob', 100);
    const a = await analyze('bob', 'Sr. Software Engineer', serviceKey);
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({
      known: true,
      family: { id: 'software-engineering' },
      tokens: { charged: 7, balance: 93 },
    });
    expect(a.json.skills.length).toBeGreaterThan(0);
    expect(a.json.relatedTitles.length).toBeGreaterThan(0);
    const p = await call(jobTitlesPathwaysGet, {
      key: userKey,
      params: { title: 'Software Engineer' },
      query: { userId: 'bob' },
    });
    expect(p.status).toBe(200);
    expect(p.json.nextRoles.length).toBeGreaterThan(0);
    expect(p.json.nextRoles[0].typicalYears).toEqual({ min: expect.any(Number), max: expect.any(Number) });
    expect(p.json.tokens).toMatchObject({ charged: 7, balance: 86 });
    const r = await call(jobTitlesRelationshipsGet, {
      key: userKey,
      params: { title: 'Software Engineer' },
      query: { userId: 'bob' },
    });
    expect(r.status).toBe(200);
    expect(r.json.relationships[0]).toMatchObject({ kind: expect.any(String), strength: expect.any(Number) });
    expect(r.json.tokens).toMatchObject({ charged: 5, balance: 81 });
    expect((await call(jobTitlesRelationshipsGet, { params: { title: 'Software Engineer' } })).status).toBe(
      400,
    );
    expect((await call(jobTitlesAnalyze, { method: 'POST', body: { title: 'x' } })).status).toBe(400);
    const metrics = await call(metricsGet, { key: userKey });
    expect(metrics.json.tokenUsage.operations).toMatchObject({
      'analyze-title': { charges: 1, tokens: 7 },
      pathways: { charges: 1, tokens: 7 },
      relationships: { charges: 1, tokens: 5 },
      market: { charges: 0 },
    });
    expect(metrics.json.tokenUsage.grants).toEqual({ count: 1, tokens: 100 });
  });

  it('402 when the balance is short: nothing charged, no ledger entry', async () => {
    await grant('cat', 6);
    const res = await analyze('cat', 'Data Scientist', userKey);
    expect(res.status).toBe(402);
    expect(res.json).toMatchObject({ type: 'urn:portal-bridge:problem:payment-required', status: 402 });
    const read = await call(tokensGet, { params: { userId: 'cat' } });
    expect(read.json).toMatchObject({ balance: 6, spent: 0 });
    expect(read.json.ledger).toHaveLength(1);
    expect((await analyze('nobody', 'Data Scientist', userKey)).status).toBe(402);
  });

  it('50 concurrent charges against a balance covering 20: exactly 20 succeed, the rest 402, no overdraw', async () => {
    await grant('dan', 20 * 7);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => analyze('dan', 'Software Engineer', userKey)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 402)).toHaveLength(30);
    const balances = results.filter((r) => r.status === 200).map((r) => r.json.tokens.balance as number);
    expect(new Set(balances).size).toBe(20); // every success saw its own balance
    const read = await call(tokensGet, { params: { userId: 'dan' }, query: { limit: '200' } });
    expect(read.json).toMatchObject({ balance: 0, granted: 140, spent: 140 });
    expect(read.json.ledger).toHaveLength(21);
    const sum = (read.json.ledger as { amount: number }[]).reduce((s, e) => s + e.amount, 0);
    expect(sum).toBe(read.json.balance);
  });

  it('the same Idempotency-Key charges once and returns the same answer; another operation with it is 422', async () => {
    await grant('eve', 20);
    const first = await analyze('eve', 'Product Manager', userKey, { 'idempotency-key': 'req-1' });
    const again = await analyze('eve', 'Product Manager', userKey, { 'idempotency-key': 'req-1' });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.raw).toBe(first.raw);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // concurrent retries of one key also charge once
    const burst = await Promise.all(
      Array.from({ length: 10 }, () =>
        analyze('eve', 'Product Manager', userKey, { 'idempotency-key': 'req-2' }),
      ),
    );
    expect(burst.every((r) => r.status === 200 && r.raw === burst[0]?.raw)).toBe(true);
    const read = await call(tokensGet, { params: { userId: 'eve' } });
    expect(read.json.balance).toBe(20 - 7 - 7);
    expect(read.json.ledger).toHaveLength(3);
    const other = await call(jobTitlesPathwaysGet, {
      key: userKey,
      params: { title: 'Product Manager' },
      query: { userId: 'eve' },
      headers: { 'idempotency-key': 'req-1' },
    });
    expect(other.status).toBe(422);
    expect(other.json.type).toBe('urn:portal-bridge:problem:idempotency-key-reused');
    // grants are idempotent too
    const g1 = await grant('eve', 10, { 'idempotency-key': 'grant-1' });
    const g2 = await grant('eve', 10, { 'idempotency-key': 'grant-1' });
    expect(g2.json).toEqual(g1.json);
    expect((await call(tokensGet, { params: { userId: 'eve' } })).json.balance).toBe(16);
    expect((await analyze('eve', 'PM', userKey, { 'idempotency-key': 'bad key with spaces' })).status).toBe(
      400,
    );
  });

  it('an Idempotency-Key reused with a different request is 422 and charges nothing', async () => {
    await grant('ida', 20);
    const first = await analyze('ida', 'Product Manager', userKey, { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(200);
    const otherBody = await analyze('ida', 'Data Scientist', userKey, { 'idempotency-key': 'k-1' });
    expect(otherBody.status).toBe(422);
    expect(otherBody.json.type).toBe('urn:portal-bridge:problem:idempotency-key-reused');
    const otherParams = await call(jobTitlesPathwaysGet, {
      key: userKey,
      params: { title: 'Data Scientist' },
      query: { userId: 'ida' },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(otherParams.status).toBe(200);
    const sameOpOtherTitle = await call(jobTitlesPathwaysGet, {
      key: userKey,
      params: { title: 'Product Manager' },
      query: { userId: 'ida' },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(sameOpOtherTitle.status).toBe(422);
    // the same request again still replays
    const replay = await analyze('ida', 'Product Manager', userKey, { 'idempotency-key': 'k-1' });
    expect(replay.status).toBe(200);
    expect(replay.raw).toBe(first.raw);
    const read = await call(tokensGet, { params: { userId: 'ida' } });
    expect(read.json.balance).toBe(20 - 7 - 7);
    // a grant is checked the same way
    expect((await grant('ida', 5, { 'idempotency-key': 'g-1' })).status).toBe(200);
    const otherGrant = await grant('ida', 6, { 'idempotency-key': 'g-1' });
    expect(otherGrant.status).toBe(422);
    expect((await call(tokensGet, { params: { userId: 'ida' } })).json.balance).toBe(20 - 14 + 5);
  });

  it("idempotency records are scoped to the caller: another key's same Idempotency-Key never replays", async () => {
    await grant('joe', 30);
    const mine = await analyze('joe', 'Product Manager', userKey, { 'idempotency-key': 'shared-key' });
    expect(mine.status).toBe(200);
    const theirs = await analyze('joe', 'Product Manager', serviceKey, { 'idempotency-key': 'shared-key' });
    expect(theirs.status).toBe(200);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.json.tokens.entryId).not.toBe(mine.json.tokens.entryId);
    // a different request under the other caller's key is not "reuse" either: it is that caller's own key
    const theirsOther = await analyze('joe', 'Data Scientist', TEST_ADMIN_KEY, {
      'idempotency-key': 'shared-key',
    });
    expect(theirsOther.status).toBe(200);
    expect((await call(tokensGet, { params: { userId: 'joe' } })).json.balance).toBe(30 - 21);
  });

  it('a user without enough tokens gets 402 before any work is done', async () => {
    const wordCloud = jest.spyOn(services.jobTitles, 'wordCloud');
    const res = await call(jobTitlesWordCloudCreate, {
      method: 'POST',
      key: userKey,
      body: { userId: 'broke', titles: ['Software Engineer'] },
    });
    expect(res.status).toBe(402);
    expect(res.json.type).toBe('urn:portal-bridge:problem:payment-required');
    expect(wordCloud).not.toHaveBeenCalled();
    wordCloud.mockRestore();
  });

  it('ledger pages newest first', async () => {
    for (let i = 1; i <= 5; i++) await grant('fay', i);
    const p1 = await call(tokensGet, { params: { userId: 'fay' }, query: { limit: '2' } });
    expect(p1.json.ledger.map((e: { amount: number }) => e.amount)).toEqual([5, 4]);
    const p2 = await call(tokensGet, {
      params: { userId: 'fay' },
      query: { limit: '2', after: p1.json.next },
    });
    expect(p2.json.ledger.map((e: { amount: number }) => e.amount)).toEqual([3, 2]);
  });

  it('postings import (admin/service) feeds the market operation; too few periods is honest insufficient-data', async () => {
    await grant('gus', 100);
    const months = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2025-07', '2025-08'];
    expect(
      (await call(marketPostingsImport, { method: 'POST', key: userKey, body: { postings: [] } })).status,
    ).toBe(403);
    const bad = await call(marketPostingsImport, {
      method: 'POST',
      key: serviceKey,
      body: {
        postings: [
          { title: 'Data Scientist', period: '2025-13', count: 3 },
          { title: 'zzqx wobble', period: '2025-01', count: 1 },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.rows).toHaveLength(2);
    expect(bad.json.rows.every((r: { ok: boolean }) => !r.ok)).toBe(true);
    const few = await call(marketPostingsImport, {
      method: 'POST',
      body: {
        postings: months.slice(0, 3).map((period) => ({ title: 'Data Scientist', period, count: 10 })),
      },
    });
    expect(few.status).toBe(200);
    const insufficient = await call(jobTitlesMarketGet, {
      params: { title: 'data scientist' },
      query: { userId: 'gus' },
    });
    expect(insufficient.status).toBe(200);
    expect(insufficient.json.market).toMatchObject({ status: 'insufficient-data', points: 3 });
    const full = await call(marketPostingsImport, {
      method: 'POST',
      body: {
        postings: months.map((period, i) => ({ title: 'Data Scientist', period, count: 100 + 20 * i })),
      },
    });
    expect(full.json.summary).toMatchObject({ rows: 8, ok: 8, failed: 0, titles: 1 });
    const market = await call(jobTitlesMarketGet, {
      params: { title: 'Data Scientist' },
      query: { userId: 'gus' },
    });
    expect(market.json.market).toMatchObject({ status: 'ok', trend: 'increasing' });
    expect(market.json.series).toMatchObject({ granularity: 'month', from: '2025-01', to: '2025-08' });
    expect(market.json.tokens).toMatchObject({ charged: 7, balance: 86 });
  });

  it('taxonomy import (admin): invalid rows reported and nothing changes; a valid CSV is used afterwards', async () => {
    await grant('hal', 100);
    expect((await call(jobTitlesTaxonomyImport, { method: 'POST', key: userKey, body: {} })).status).toBe(
      403,
    );
    const csvHeaders = { 'content-type': 'text/csv' };
    const badCsv = 'id,name,family,seniority\nwidget-maker,Widget Maker,widgets,mid\nbad id,X,widgets,guru\n';
    const bad = await call(jobTitlesTaxonomyImport, { method: 'POST', body: badCsv, headers: csvHeaders });
    expect(bad.status).toBe(400);
    expect(bad.json.rows.find((r: { row: number }) => r.row === 3)).toMatchObject({ ok: false });
    expect(bad.json.current.source).toBe('built-in');
    const csv = [
      'id,name,family,family_name,seniority,aliases,skills,next',
      'widget-maker,Widget Maker,widgets,Widgets,mid,gadget maker,welding;design,senior-widget-maker:2-4',
      'senior-widget-maker,Senior Widget Maker,widgets,,senior,,welding;design;mentoring,',
    ].join('\n');
    const good = await call(jobTitlesTaxonomyImport, { method: 'POST', body: csv, headers: csvHeaders });
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({
      applied: true,
      current: { source: 'imported', stats: { titles: 2, families: 1 } },
    });
    const a = await analyze('hal', 'Gadget Maker', userKey);
    expect(a.json).toMatchObject({ known: true, titleId: 'widget-maker', family: { id: 'widgets' } });
    const p = await call(jobTitlesPathwaysGet, {
      params: { title: 'Widget Maker' },
      query: { userId: 'hal' },
    });
    expect(p.json.nextRoles[0]).toMatchObject({
      titleId: 'senior-widget-maker',
      typicalYears: { min: 2, max: 4 },
    });
    expect(
      (
        await call(jobTitlesTaxonomyImport, {
          method: 'POST',
          body: 'x',
          headers: { 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(415);
    // another instance over the same store picks the imported taxonomy up
    const { JobTitleService } = await import('../../../shared/services/job-title-service');
    const { inProcessCompute } = await import('../../helpers/in-process-compute');
    const { PiscinaTaxonomyWorker } =
      await import('../../../shared/adapters/workers/piscina-taxonomy-worker');
    const taxonomyWorker = new PiscinaTaxonomyWorker();
    const other = new JobTitleService({
      store: services.store.collection(services.config.store.container),
      clock: services.clock,
      taxonomyWorker,
      computeWorker: inProcessCompute({}),
    });
    expect((await other.current()).info.source).toBe('imported');
    await taxonomyWorker.close();
  }, 120_000); // parsing runs on a worker thread, which transpiles the TypeScript sources on start under ts-jest
});
