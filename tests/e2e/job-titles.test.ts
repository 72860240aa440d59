/**
 * e2e: the job-title operations and tokens as a new user meets them, over HTTP on the local host.
 * 30 tokens granted; word cloud (5) + analyze (7) + pathways (7) + market (7) = 26, so the
 * relationships lookup (5) finds 4 left and gets 402; the balance and the ledger add up.
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, type Client } from './client';

let host: LocalHostProcess;
let admin: Client;
let userPortal: Client;
let userKey: string;

beforeAll(async () => {
  host = await startLocalHostProcess();
  admin = client(host.baseUrl, host.adminKey);
  const res = await admin.post('/keys', { role: 'user', name: 'user portal' });
  userKey = res.body.key as string;
  userPortal = client(host.baseUrl, userKey);
});

afterAll(cleanupLocalHosts);

test('a new user: grant 30, five operations (the last one 402), balance and ledger add up, SVG renders', async () => {
  const userId = 'new.user@example.com';
  const granted = await admin.post(
    `/tokens/${encodeURIComponent(userId)}/grant`,
    { amount: 30, reason: 'welcome' },
    { headers: { 'idempotency-key': 'welcome-1' } },
  );
  expect(granted.status).toBe(200);
  expect(granted.body).toMatchObject({ granted: 30, balance: 30 });
  // a retried grant adds nothing
  const regrant = await admin.post(
    `/tokens/${encodeURIComponent(userId)}/grant`,
    { amount: 30, reason: 'welcome' },
    { headers: { 'idempotency-key': 'welcome-1' } },
  );
  expect(regrant.body).toEqual(granted.body);

  // posting counts for the market lookup (admin import, free)
  const months = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2025-07', '2025-08'];
  const imported = await admin.post('/market/postings', {
    postings: months.map((period, i) => ({ title: 'Data Scientist', period, count: 200 - 10 * i })),
  });
  expect(imported.status).toBe(200);

  // 1. word cloud as SVG (5 → 25)
  const svg = await fetch(`${host.baseUrl}/job-titles/word-cloud?format=svg`, {
    method: 'POST',
    headers: { 'x-api-key': userKey, 'content-type': 'application/json' },
    body: JSON.stringify({
      userId,
      titles: [
        'Sr. Software Engineer',
        'Software Engineer',
        'Data Scientist',
        'Senior Data Scientist',
        'SWE',
      ],
    }),
  });
  expect(svg.status).toBe(200);
  expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
  const svgText = await svg.text();
  expect(svgText).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svgText).toMatch(/<text [^>]*>Software<\/text>/);
  expect(svg.headers.get('x-tokens-balance')).toBe('25');

  // 2. analyze (7 → 18), retried with the same key: charged once, same answer
  const analyze = () =>
    userPortal.post(
      '/job-titles/analyze',
      { userId, title: 'Sr. Data Scientist' },
      { headers: { 'idempotency-key': 'a-1' } },
    );
  const a = await analyze();
  expect(a.status).toBe(200);
  expect(a.body).toMatchObject({
    known: true,
    family: { id: expect.any(String) },
    tokens: { charged: 7, balance: 18 },
  });
  const again = await analyze();
  expect(again.text).toBe(a.text);
  expect(again.headers.get('idempotent-replayed')).toBe('true');

  // 3. pathways (7 → 11)
  const p = await userPortal.get(
    `/job-titles/${encodeURIComponent('Software Engineer')}/pathways?userId=${encodeURIComponent(userId)}`,
  );
  expect(p.status).toBe(200);
  expect(p.body.nextRoles.length).toBeGreaterThan(0);
  expect(p.body.tokens.balance).toBe(11);

  // 4. market (7 → 4)
  const m = await userPortal.get(
    `/job-titles/${encodeURIComponent('Data Scientist')}/market?userId=${encodeURIComponent(userId)}`,
  );
  expect(m.status).toBe(200);
  expect(m.body.market).toMatchObject({ status: 'ok', trend: 'decreasing' });
  expect(m.body.tokens.balance).toBe(4);

  // 5. relationships costs 5, 4 left → 402, nothing charged
  const r = await userPortal.get(
    `/job-titles/${encodeURIComponent('Data Scientist')}/relationships?userId=${encodeURIComponent(userId)}`,
  );
  expect(r.status).toBe(402);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body.type).toBe('urn:portal-bridge:problem:payment-required');

  const tokens = await userPortal.get(`/tokens/${encodeURIComponent(userId)}`);
  expect(tokens.status).toBe(200);
  expect(tokens.body).toMatchObject({ balance: 4, granted: 30, spent: 26 });
  const ledger = tokens.body.ledger as { operation: string; amount: number; balanceAfter: number }[];
  expect(ledger.map((e) => e.operation)).toEqual([
    'market',
    'pathways',
    'analyze-title',
    'word-cloud',
    'grant',
  ]);
  expect(ledger.reduce((s, e) => s + e.amount, 0)).toBe(tokens.body.balance);
  expect(ledger[0]?.balanceAfter).toBe(4);

  const metrics = await userPortal.get('/metrics');
  expect(metrics.body.tokenUsage.operations).toMatchObject({
    'word-cloud': { charges: 1, tokens: 5 },
    'analyze-title': { charges: 1, tokens: 7, replays: 1 },
    relationships: { charges: 0, refused: 1 },
  });

  // the token changes went out as events
  const events = await userPortal.get(
    `/events?after=0&types=tokens_charged,tokens_granted&subject=${encodeURIComponent(userId)}`,
  );
  expect(events.body.events.map((e: { type: string }) => e.type)).toEqual([
    'tokens_granted',
    'tokens_charged',
    'tokens_charged',
    'tokens_charged',
    'tokens_charged',
  ]);
});
