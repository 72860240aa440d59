/**
 * e2e: the analytics dashboard and custom queries over the local host, checked against counts this
 * test made itself: users created and deleted, user-portal activity, syncs and conflicts by
 * writer, events by type, token charges, analyses and their degraded share, job titles. The figures
 * come from the aggregates the analytics change-feed consumer keeps (not from scans).
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, expectProblem, type AnyJson, type Client } from './client';
import { issueKey, waitFor } from './admin-helpers';

afterAll(cleanupLocalHosts);

let host: LocalHostProcess;
let admin: Client;
let portal: Client;

const ADMIN_CREATED = 12;
const PORTAL_USERS = 5; // users the user portal changes

beforeAll(async () => {
  // The lockstep monitor (its probe syncs user lockstep-probe every minute) is off: the counts are exact.
  host = await startLocalHostProcess({
    env: { BRIDGE_LOCKSTEP_MONITOR_ENABLED: 'false' },
    startTimeoutMs: 60_000,
  });
  admin = client(host.baseUrl, host.adminKey);
  portal = client(host.baseUrl, await issueKey(admin, 'user'));

  // 12 users created by the admin: 5 Data Engineers, 4 Nurses, 3 with a title the taxonomy does not know.
  const titles = [
    ...Array(5).fill('Data Engineer'),
    ...Array(4).fill('Registered Nurse'),
    ...Array(3).fill('Chief Vibes Officer'),
  ];
  for (let i = 0; i < ADMIN_CREATED; i++) {
    expect(
      (await admin.post('/admin/users', { userId: `a-${i}`, data: { name: `A ${i}`, jobTitle: titles[i] } }))
        .status,
    ).toBe(201);
  }
  // The user portal changes 5 of them (5 user syncs), then 2 stale writes lose to admin changes:
  for (let i = 0; i < PORTAL_USERS; i++) {
    expect((await portal.post(`/users/a-${i}/sync`, { data: { city: 'Oslo' } })).status).toBe(200);
  }
  // a-0 is at version 2; the admin changes `city` (version 3, an admin sync without conflicts) …
  expect((await admin.post('/users/a-0/sync', { data: { city: 'Bergen' } })).status).toBe(200);
  // … so the portal's write based on version 2 conflicts (admin-wins) and changes nothing else.
  const stale = await portal.post('/users/a-0/sync', { data: { city: 'Tromsø', note: 'x' }, baseVersion: 2 });
  expect(stale.body.conflicts).toEqual([{ field: 'city', resolution: 'admin-wins' }]);
  // One deletion.
  expect((await admin.delete('/users/a-11')).status).toBe(204);
  // Tokens: a grant and one metered word cloud (5 tokens).
  expect((await admin.post('/tokens/a-1/grant', { amount: 50 })).status).toBe(200);
  expect(
    (await portal.post('/job-titles/word-cloud', { userId: 'a-1', titles: ['Data Engineer'] })).status,
  ).toBe(200);
  // Two comprehensive analyses with no AI provider: the heuristic, degraded.
  for (let i = 0; i < 2; i++) {
    const r = await portal.post('/analysis/comprehensive', {
      targetRole: 'Data Engineer',
      skills: ['SQL'],
      experienceYears: 2,
      education: 'BSc',
    });
    expect(r.status).toBe(200);
  }
  // Three portal events of the portal's own type.
  for (let i = 0; i < 3; i++)
    expect((await portal.post('/events', { type: 'portal_note', data: { i } })).status).toBe(202);
}, 120_000);

const EXPECTED = {
  total: ADMIN_CREATED - 1,
  created: ADMIN_CREATED,
  adminSyncs: ADMIN_CREATED + 1, // the creations and the one admin change
  userSyncs: PORTAL_USERS + 1, // the stale write still applied `note`
};

it('the dashboard shows the figures this test made', async () => {
  const dashboard = await waitFor(
    () => admin.get('/admin/analytics/dashboard'),
    (r) =>
      r.body.events?.day?.byType?.portal_note === 3 &&
      r.body.users?.total === EXPECTED.total &&
      r.body.analyses?.day?.total === 2,
    30_000,
    200,
  );
  const d = dashboard.body;
  expect(d.users).toEqual({
    total: EXPECTED.total,
    created: { day: EXPECTED.created, week: EXPECTED.created, month: EXPECTED.created },
    deleted: { day: 1, week: 1, month: 1 },
    active: { day: PORTAL_USERS, week: PORTAL_USERS, month: PORTAL_USERS },
  });
  expect(d.syncs.day.byWriter).toEqual({ admin: EXPECTED.adminSyncs, user: EXPECTED.userSyncs });
  expect(d.syncs.month.conflictsByWriter).toEqual({ user: 1 });
  expect(d.events.week.byType).toMatchObject({
    user_update: EXPECTED.adminSyncs + EXPECTED.userSyncs,
    user_delete: 1,
    portal_note: 3,
    analysis_complete: 2,
    tokens_granted: 1,
    tokens_charged: 1,
  });
  expect(d.tokens.day.byOperation).toEqual({ 'word-cloud': { charges: 1, tokens: 5 } });
  expect(d.analyses.day).toEqual({ total: 2, byProvider: { heuristic: 2 }, degraded: 2, degradedShare: 1 });
  expect(d.topJobTitles.titles).toEqual([
    { title: 'Data Engineer', users: 5 },
    { title: 'Registered Nurse', users: 4 },
  ]);
  expect(d.topJobTitles.unrecognised).toBe(2); // the third unknown title was the deleted user's
  expect(d.freshness.failedInvocations).toBe(0);
  expect(Date.parse(d.freshness.aggregatedAt)).toBeLessThanOrEqual(Date.parse(d.generatedAt));
  expect(d.freshness.feedPollDelayMs).toBe(250);
}, 60_000);

it('custom queries answer from the same aggregates, and save as reports', async () => {
  const q = await admin.post('/admin/analytics/custom', {
    metric: 'syncs',
    groupBy: 'writer',
    range: { last: '24h' },
    bucket: 'hour',
    saveAs: 'syncs by writer, last day',
  });
  expect(q.status).toBe(200);
  const totals = Object.fromEntries(q.body.series.map((s: AnyJson) => [s.group, s.total]));
  expect(totals).toEqual({ admin: EXPECTED.adminSyncs, user: EXPECTED.userSyncs });
  expect(q.body.series[0].points).toHaveLength(25);
  expect(q.body.report.id).toMatch(/^rep_[a-f0-9]{24}$/);
  const report = await admin.get(`/admin/analytics/reports/${q.body.report.id}`);
  expect(report.status).toBe(200);
  expect(report.body.report).toMatchObject({ name: 'syncs by writer, last day', query: { metric: 'syncs' } });
  expect(report.body.result.total).toBe(EXPECTED.adminSyncs + EXPECTED.userSyncs);

  const created = await admin.post('/admin/analytics/custom', {
    metric: 'users_created',
    range: { last: '7d' },
    bucket: 'total',
  });
  expect(created.body.total).toBe(EXPECTED.created);
  const tokens = await admin.post('/admin/analytics/custom', {
    metric: 'tokens_spent',
    groupBy: 'operation',
    range: { last: '30d' },
    bucket: 'day',
  });
  expect(tokens.body.series.map((s: AnyJson) => [s.group, s.total])).toEqual([['word-cloud', 5]]);
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const events = await admin.post('/admin/analytics/custom', {
    metric: 'events',
    groupBy: 'type',
    range: { from, to },
    bucket: 'total',
  });
  expect(events.body.series.find((s: AnyJson) => s.group === 'portal_note').total).toBe(3);
});

it('refuses bad queries and non-admin keys with 4xx', async () => {
  const bad: unknown[] = [
    {},
    { metric: 'secrets', range: { last: '7d' }, bucket: 'day' },
    { metric: 'syncs', groupBy: 'provider', range: { last: '7d' }, bucket: 'day' },
    { metric: 'syncs', range: { last: '365d' }, bucket: 'hour' },
    { metric: 'syncs', range: { last: '2w' }, bucket: 'day' },
    { metric: 'syncs', range: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, bucket: 'day' },
    { metric: 'syncs', range: { from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z' }, bucket: 'day' },
    { metric: 'syncs', range: { last: '7d' }, bucket: 'day', saveAs: '' },
    { metric: 'syncs', range: { last: '7d' }, bucket: 'minute' },
  ];
  for (const body of bad) expectProblem(await admin.post('/admin/analytics/custom', body), 400);
  expectProblem(await admin.get('/admin/analytics/reports/rep_000000000000000000000000'), 404);
  expectProblem(await admin.get('/admin/analytics/reports/x'), 400);
  expectProblem(await portal.get('/admin/analytics/dashboard'), 403);
  expectProblem(
    await portal.post('/admin/analytics/custom', { metric: 'syncs', range: { last: '7d' }, bucket: 'day' }),
    403,
  );
});
