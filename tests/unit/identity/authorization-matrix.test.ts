/**
 * The role × route × owner matrix over EVERY registered route (generated from the route registry,
 * so a new route cannot be missed: a route without an entry in MATRIX fails this test).
 *
 * Callers (columns): an admin key, a service key, the user-portal key, a scoped key (a user key
 * limited to SCOPED_KEY_SCOPES), an expired key, end user A acting on A's objects (`own`), and end
 * user A acting on B's objects (`other`). Key callers act on A's objects.
 *
 * ── Adding your route ──────────────────────────────────────────────────────────────────────────
 * Add one entry to MATRIX, keyed by the function name:
 *   'things-get': {
 *     request: (t) => ({ method: 'GET', params: { userId: t.userId } }),
 *     expect: { admin: 200, service: 200, user: 200, own: 200, other: 403 },
 *   },
 * `request(t)` builds a VALID request acting on the target user `t` (t.userId, t.file, t.operationId,
 * t.subscription() for a fresh one owned by that end user, t.fx for the shared fixtures); it may
 * be async and prepare what it needs (e.g. re-create what a DELETE removes). `expect` gives the
 * status per caller. The scoped and expired columns are derived: the scoped key gets the user
 * column when the route's scope is in SCOPED_KEY_SCOPES and 403 otherwise; an expired key gets
 * 401 everywhere but public routes. Object-level rules come from shared/services/access-policy.ts.
 */
import { app, type HttpHandler, type HttpFunctionOptions } from '@azure/functions';
import { setServices, type Services } from '../../../shared/container';
import type { OutboxItem } from '../../../shared/services/event-outbox';
import { EventQuarantine } from '../../../shared/services/event-quarantine';
import { endUserPrincipal, keyPrincipal } from '../../../shared/services/principal';
import type { Scope } from '../../../shared/services/scopes';
import { loadAllRoutes } from '../../helpers/all-routes';
import { invokeHandler, type HandlerRequest } from '../../helpers/invoke-handler';
import { issuerSettings, startOidcIssuer, type OidcIssuer } from '../../helpers/oidc-issuer';
import { makeTestServices, ManualClock } from '../../helpers/test-services';

const handlers = new Map<string, HttpHandler>();
jest.spyOn(app, 'http').mockImplementation((name: string, options: HttpFunctionOptions) => {
  handlers.set(name, options.handler);
});
const routes = loadAllRoutes();

type Column = 'admin' | 'service' | 'user' | 'scoped' | 'expired' | 'own' | 'other';
const COLUMNS: Column[] = ['admin', 'service', 'user', 'scoped', 'expired', 'own', 'other'];
type Declared = Record<'admin' | 'service' | 'user' | 'own' | 'other', number>;

/** The scoped key: a user-portal key narrowed to these route groups. */
const SCOPED_KEY_SCOPES: Scope[] = ['users:read', 'files', 'subscriptions'];

interface Fixtures {
  services: Services;
  /** A fresh API key id (for key routes that consume one). */
  freshKeyId(): Promise<string>;
  /** A fresh quarantine entry (a committed event refused by a running consumer); its id. */
  quarantined(): Promise<string>;
}

interface Target {
  userId: string;
  /** users/<userId>/cv.txt, present. */
  file: string;
  /** An operation queued by this end user. */
  operationId: string;
  /** A fresh subscription owned by this end user. */
  subscription(): Promise<string>;
  fx: Fixtures;
}

type Request = Omit<HandlerRequest, 'key'>;
interface Entry {
  request: (t: Target) => Request | Promise<Request>;
  expect: Declared;
}

const ALL_200 = { admin: 200, service: 200, user: 200, own: 200, other: 200 };
const ALL_400 = { admin: 400, service: 400, user: 400, own: 400, other: 400 };
const ADMIN_ONLY = (status: number) => ({ admin: status, service: 403, user: 403, own: 403, other: 403 });
const KEYS_ONLY = (status: number) => ({
  admin: status,
  service: status,
  user: status,
  own: 403,
  other: 403,
});
/** Every key acts for any user; an end user only for themselves. */
const FOR_SELF = (status: number) => ({
  admin: status,
  service: status,
  user: status,
  own: status,
  other: 403,
});
/** Owned by an end user: admins and the owner see it; anyone else gets 404 (as if absent). */
const OWNED = (status: number) => ({ admin: status, service: 404, user: 404, own: status, other: 404 });

let putCounter = 0;
const comprehensive = (userId: string) => ({
  userId,
  targetRole: 'Data Engineer',
  skills: ['SQL', 'Python'],
  experienceYears: 3,
  education: 'BSc',
});

/** The area parameter every admin route template starts with (`{area:regex(^admin$)}`). */
const ADMIN_AREA = { area: 'admin' };
/** The admin the admin fixtures (batches, exports, imports, reports) are created as. */
const MATRIX_ADMIN = keyPrincipal('matrix-admin', 'admin', 'matrix admin');
/** A fresh, unfinished batch about the target user (its item is queued, never run here). */
async function freshBatch(t: Target): Promise<string> {
  const { batch } = await t.fx.services.admin.batches.create(
    { operations: [{ command: 'sync_user_data', userId: t.userId, data: { city: 'Oslo' } }] },
    MATRIX_ADMIN,
  );
  return batch.id;
}
// Career records (issue 15): made through the services as the end user they belong to. A resume
// or application addressed by its generated id is absent (404) for an end user it does not belong
// to; a route naming another user answers 403 (access-policy.ts).
const CV_TEXT = 'Ann Example\nSkills\nPython, SQL, Spark\n';
const cvUpload = () => ({ fileName: 'cv.txt', contentType: 'text/plain', body: chunks(CV_TEXT) });
const resumeOf = async (t: Target) =>
  (await t.fx.services.resumes.create(t.userId, cvUpload(), endUserPrincipal(t.userId))).id;
const cached = new Map<string, string>();
/** One record per user and kind, made on first use (reads and updates need no fresh one). */
const once = async (kind: string, t: Target, make: () => Promise<string>) => {
  const key = `${kind}:${t.userId}`;
  const id = cached.get(key) ?? (await make());
  cached.set(key, id);
  return id;
};
let postingCounter = 0;
/** A fresh posting (an application to a posting is once per user). */
const postingOf = async (t: Target) => {
  const id = `matrix-${++postingCounter}`;
  await t.fx.services.jobPostings.import(
    [{ id, title: 'Data Engineer', text: 'Python and Spark pipelines.', remote: 'remote' }],
    keyPrincipal('matrix', 'admin', 'matrix'),
  );
  return id;
};
const applicationOf = async (t: Target) =>
  (
    await t.fx.services.applications.create(
      t.userId,
      { postingId: await postingOf(t) },
      endUserPrincipal(t.userId),
    )
  ).id;

// One entry per registered route, in alphabetical order. See the header for how to add yours.
const MATRIX: Record<string, Entry> = {
  // The admin operations (issue 14): admin only, scope `admin`; every other caller is refused
  // before the handler runs. Requests that need an object create a fresh one as the admin.
  'admin-ai-content-generate': {
    request: () => ({
      method: 'POST',
      params: ADMIN_AREA,
      body: { kind: 'job_description', input: { title: 'Data Engineer', company: 'Acme', skills: ['SQL'] } },
    }),
    expect: ADMIN_ONLY(200),
  },
  'admin-ai-enrich': {
    request: (t) => ({ method: 'POST', params: ADMIN_AREA, body: { userId: t.userId } }),
    expect: ADMIN_ONLY(200),
  },
  'admin-ai-models-status-get': {
    request: () => ({ method: 'GET', params: ADMIN_AREA }),
    expect: ADMIN_ONLY(200),
  },
  'admin-analytics-custom-run': {
    request: () => ({
      method: 'POST',
      params: ADMIN_AREA,
      body: { metric: 'syncs', groupBy: 'writer', range: { last: '24h' }, bucket: 'total' },
    }),
    expect: ADMIN_ONLY(200),
  },
  'admin-analytics-dashboard-get': {
    request: () => ({ method: 'GET', params: ADMIN_AREA }),
    expect: ADMIN_ONLY(200),
  },
  'admin-analytics-reports-get': {
    request: async (t) => {
      const { report } = await t.fx.services.admin.analytics.custom(
        { metric: 'syncs', range: { last: '24h' }, bucket: 'total', saveAs: 'matrix' },
        MATRIX_ADMIN,
      );
      return { method: 'GET', params: { ...ADMIN_AREA, id: report?.id ?? 'rep_missing' } };
    },
    expect: ADMIN_ONLY(200),
  },
  'admin-batches-cancel': {
    request: async (t) => ({ method: 'POST', params: { ...ADMIN_AREA, id: await freshBatch(t) } }),
    expect: ADMIN_ONLY(200),
  },
  'admin-batches-create': {
    request: (t) => ({
      method: 'POST',
      params: ADMIN_AREA,
      body: { operations: [{ command: 'sync_user_data', userId: t.userId, data: { city: 'Oslo' } }] },
    }),
    expect: ADMIN_ONLY(202),
  },
  'admin-batches-get': {
    request: async (t) => ({ method: 'GET', params: { ...ADMIN_AREA, id: await freshBatch(t) } }),
    expect: ADMIN_ONLY(200),
  },
  'admin-exports-create': {
    request: () => ({ method: 'POST', params: ADMIN_AREA, body: {} }),
    expect: ADMIN_ONLY(202),
  },
  'admin-exports-get': {
    request: async (t) => {
      const { job } = await t.fx.services.admin.transfers.createExport({}, MATRIX_ADMIN);
      return { method: 'GET', params: { ...ADMIN_AREA, id: job.id } };
    },
    expect: ADMIN_ONLY(200),
  },
  'admin-imports-create': {
    request: async (t) => {
      await t.fx.services.files.put(t.file, { body: chunks('{}') });
      return { method: 'POST', params: ADMIN_AREA, body: { path: t.file } };
    },
    expect: ADMIN_ONLY(202),
  },
  'admin-imports-get': {
    request: async (t) => {
      await t.fx.services.files.put(t.file, { body: chunks('{}') });
      const { job } = await t.fx.services.admin.transfers.createImport({ path: t.file }, MATRIX_ADMIN);
      return { method: 'GET', params: { ...ADMIN_AREA, id: job.id } };
    },
    expect: ADMIN_ONLY(200),
  },
  'admin-users-create': {
    request: () => ({
      method: 'POST',
      params: ADMIN_AREA,
      body: { userId: `matrix-new-${++putCounter}`, data: { name: 'New' } },
    }),
    expect: ADMIN_ONLY(201),
  },
  'admin-users-list': {
    request: () => ({ method: 'GET', params: ADMIN_AREA, query: { limit: '5' } }),
    expect: ADMIN_ONLY(200),
  },
  'analysis-bayesian-run': {
    request: () => ({
      method: 'POST',
      body: {
        role: 'Data Engineer',
        profile: { skillsMatched: 3, skillsRequired: 5, experienceYears: 2, requiredExperienceYears: 3 },
      },
    }),
    expect: ALL_200,
  },
  'analysis-comprehensive-run': {
    request: (t) => ({ method: 'POST', body: comprehensive(t.userId) }),
    expect: FOR_SELF(200),
  },
  'analysis-geographic-run': {
    request: () => ({ method: 'POST', body: { location: 'Leeds, GB', radiusKm: 10, limit: 2 } }),
    expect: ALL_200,
  },
  'career-coaching-sessions-create': {
    request: (t) => ({ method: 'POST', body: { userId: t.userId, question: 'How do I get to senior?' } }),
    expect: FOR_SELF(201),
  },
  'career-coaching-sessions-list': {
    request: (t) => ({ method: 'GET', query: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  'career-pathways-get': {
    request: (t) => ({ method: 'GET', params: { userId: t.userId }, query: { title: 'Data Scientist' } }),
    expect: FOR_SELF(200),
  },
  'career-recommendations-get': {
    request: (t) => ({ method: 'GET', query: { userId: t.userId, title: 'Data Scientist' } }),
    expect: FOR_SELF(200),
  },
  'events-list': {
    request: (t) => ({ method: 'GET', query: { subject: t.userId } }),
    expect: FOR_SELF(200),
  },
  // The stream answers its headers once live; the matrix hangs up there (readBody: false).
  'events-stream-get': {
    request: (t) => ({ method: 'GET', query: { subject: t.userId }, readBody: false }),
    expect: FOR_SELF(200),
  },
  // A ticket is issued to anyone who may stream; what it opens is checked as its principal.
  'events-stream-tickets-create': {
    request: () => ({ method: 'POST' }),
    expect: { admin: 201, service: 201, user: 201, own: 201, other: 201 },
  },
  'events-quarantine-delete': {
    request: async (t) => ({ method: 'DELETE', params: { id: await t.fx.quarantined() } }),
    expect: ADMIN_ONLY(204),
  },
  'events-quarantine-list': { request: () => ({ method: 'GET' }), expect: ADMIN_ONLY(200) },
  'events-quarantine-redeliver': {
    request: async (t) => ({ method: 'POST', params: { id: await t.fx.quarantined() } }),
    expect: ADMIN_ONLY(202),
  },
  'events-publish': {
    request: (t) => ({ method: 'POST', body: { type: 'portal_note', data: { n: 1 }, subject: t.userId } }),
    expect: FOR_SELF(202),
  },
  'files-delete': {
    request: async (t) => {
      await t.fx.services.files.put(t.file, { body: chunks('cv') });
      return { method: 'DELETE', params: { path: t.file } };
    },
    expect: FOR_SELF(204),
  },
  'files-get': {
    request: async (t) => {
      await t.fx.services.files.put(t.file, { body: chunks('cv') });
      return { method: 'GET', params: { path: t.file } };
    },
    expect: FOR_SELF(200),
  },
  'files-list': {
    request: (t) => ({ method: 'GET', query: { prefix: `users/${t.userId}/` } }),
    expect: FOR_SELF(200),
  },
  'files-put': {
    request: (t) => ({
      method: 'PUT',
      params: { path: `users/${t.userId}/upload-${++putCounter}.txt` },
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from('hello'),
    }),
    expect: FOR_SELF(201),
  },
  'health-get': { request: () => ({ method: 'GET' }), expect: ALL_200 },
  // The bridge's own pages and API description: static, public, no data (issue 13).
  'dashboard-get': { request: () => ({ method: 'GET', params: {} }), expect: ALL_200 },
  'docs-get': { request: () => ({ method: 'GET', params: {} }), expect: ALL_200 },
  'openapi-get': { request: () => ({ method: 'GET' }), expect: ALL_200 },
  'job-titles-analyze': {
    request: (t) => ({ method: 'POST', body: { userId: t.userId, title: 'Data Scientist' } }),
    expect: FOR_SELF(200),
  },
  'job-titles-market-get': {
    request: (t) => ({ method: 'GET', params: { title: 'Data Scientist' }, query: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  'job-titles-pathways-get': {
    request: (t) => ({ method: 'GET', params: { title: 'Data Scientist' }, query: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  'job-titles-relationships-get': {
    request: (t) => ({ method: 'GET', params: { title: 'Data Scientist' }, query: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  // An admin gets past authorization and is refused for the (deliberately empty) taxonomy: the
  // matrix must not replace the taxonomy the other rows use.
  'job-titles-taxonomy-import': {
    request: () => ({ method: 'POST', body: {} }),
    expect: ADMIN_ONLY(400),
  },
  'job-titles-word-cloud-create': {
    request: (t) => ({ method: 'POST', body: { userId: t.userId, titles: ['Data Scientist', 'Sr. SWE'] } }),
    expect: FOR_SELF(200),
  },
  'jobs-applications-create': {
    request: async (t) => ({ method: 'POST', body: { userId: t.userId, postingId: await postingOf(t) } }),
    expect: FOR_SELF(201),
  },
  'jobs-applications-get': {
    request: async (t) => ({
      method: 'GET',
      params: { id: await once('application', t, () => applicationOf(t)) },
    }),
    expect: { admin: 200, service: 200, user: 200, own: 200, other: 404 },
  },
  'jobs-applications-list': {
    request: (t) => ({ method: 'GET', query: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  // Anyone who may act for the applicant may withdraw (admins move it along the state machine).
  'jobs-applications-update': {
    request: async (t) => ({
      method: 'PATCH',
      params: { id: await applicationOf(t) },
      body: { status: 'withdrawn' },
    }),
    expect: { admin: 200, service: 200, user: 200, own: 200, other: 404 },
  },
  'jobs-matches-get': {
    request: (t) => ({ method: 'GET', params: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  'jobs-postings-delete': {
    request: async (t) => ({ method: 'DELETE', params: { id: await postingOf(t) } }),
    expect: { admin: 204, service: 204, user: 403, own: 403, other: 403 },
  },
  'jobs-postings-get': {
    request: async (t) => ({ method: 'GET', params: { id: await once('posting', t, () => postingOf(t)) } }),
    expect: ALL_200,
  },
  'jobs-postings-import': {
    request: () => ({
      method: 'POST',
      body: { postings: [{ id: 'matrix-import', title: 'Data Engineer', text: 'SQL', remote: 'remote' }] },
    }),
    expect: { admin: 200, service: 200, user: 403, own: 403, other: 403 },
  },
  'jobs-search': {
    request: () => ({ method: 'POST', body: { query: 'data engineer', limit: 5 } }),
    expect: ALL_200,
  },
  'keys-create': {
    request: () => ({ method: 'POST', body: { role: 'service', name: 'matrix' } }),
    expect: ADMIN_ONLY(201),
  },
  'keys-delete': {
    request: async (t) => ({ method: 'DELETE', params: { id: await t.fx.freshKeyId() } }),
    expect: ADMIN_ONLY(204),
  },
  'keys-list': { request: () => ({ method: 'GET' }), expect: ADMIN_ONLY(200) },
  'keys-usage-get': {
    request: async (t) => ({ method: 'GET', params: { id: await t.fx.freshKeyId() } }),
    expect: ADMIN_ONLY(200),
  },
  'lockstep-probe': { request: () => ({ method: 'POST' }), expect: ADMIN_ONLY(200) },
  'lockstep-status-get': { request: () => ({ method: 'GET' }), expect: KEYS_ONLY(200) },
  'market-postings-import': {
    request: () => ({
      method: 'POST',
      body: { postings: [{ title: 'Data Scientist', period: '2025-01', count: 10 }] },
    }),
    expect: { admin: 200, service: 200, user: 403, own: 403, other: 403 },
  },
  'metrics-get': { request: () => ({ method: 'GET' }), expect: KEYS_ONLY(200) },
  'operations-create': {
    request: (t) => ({
      method: 'POST',
      body: { command: 'sync_user_data', userId: t.userId, data: { city: 'Oslo' } },
    }),
    expect: FOR_SELF(202),
  },
  // Keys keep reading every operation (as before owners were recorded); end users only their own.
  'operations-get': {
    request: (t) => ({ method: 'GET', params: { id: t.operationId } }),
    expect: { admin: 200, service: 200, user: 200, own: 200, other: 404 },
  },
  'profile-skills-update': {
    request: (t) => ({ method: 'POST', params: { userId: t.userId }, body: { add: ['Python'] } }),
    expect: FOR_SELF(200),
  },
  'providers-get': { request: () => ({ method: 'GET' }), expect: KEYS_ONLY(200) },
  'providers-lock-acquire': {
    request: () => ({ method: 'POST', body: { provider: 'heuristic', reason: 'matrix' } }),
    expect: ADMIN_ONLY(200),
  },
  'providers-release': {
    request: () => ({ method: 'POST', body: { reason: 'matrix' } }),
    expect: ADMIN_ONLY(200),
  },
  // Realtime push is off in these services: 404 for whoever may negotiate, after the access check
  // (an end user asking about someone else is a 403 either way); groups: tests/integration/web-pubsub.
  'realtime-negotiate': {
    request: (t) => ({ method: 'POST', body: { subject: t.userId } }),
    expect: { admin: 404, service: 404, user: 404, own: 404, other: 403 },
  },
  'resumes-create': {
    request: (t) => ({
      method: 'POST',
      query: { userId: t.userId, fileName: 'cv.txt' },
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from(CV_TEXT),
    }),
    expect: FOR_SELF(201),
  },
  'resumes-delete': {
    request: async (t) => ({ method: 'DELETE', params: { id: await resumeOf(t) } }),
    expect: { admin: 204, service: 204, user: 204, own: 204, other: 404 },
  },
  'resumes-get': {
    request: async (t) => ({ method: 'GET', params: { id: await once('resume', t, () => resumeOf(t)) } }),
    expect: { admin: 200, service: 200, user: 200, own: 200, other: 404 },
  },
  'resumes-list': {
    request: (t) => ({ method: 'GET', query: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  'resumes-update': {
    request: async (t) => ({
      method: 'PUT',
      params: { id: await once('resume', t, () => resumeOf(t)) },
      query: { fileName: 'cv-2.txt' },
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from(CV_TEXT),
    }),
    expect: { admin: 200, service: 200, user: 200, own: 200, other: 404 },
  },
  'secrets-list': { request: () => ({ method: 'GET' }), expect: ADMIN_ONLY(200) },
  'secrets-put': {
    request: () => ({ method: 'PUT', params: { name: 'matrix-secret' }, body: { value: 's3cret' } }),
    expect: ADMIN_ONLY(204),
  },
  'state-delete': {
    request: async (t) => {
      await t.fx.services.state.put('matrix-flag', { value: true });
      return { method: 'DELETE', params: { key: 'matrix-flag' } };
    },
    expect: { admin: 204, service: 204, user: 403, own: 403, other: 403 },
  },
  'state-get': {
    request: async (t) => {
      await t.fx.services.state.put('matrix-read', { value: 1 });
      return { method: 'GET', params: { key: 'matrix-read' } };
    },
    expect: KEYS_ONLY(200),
  },
  'state-put': {
    request: () => ({ method: 'PUT', params: { key: 'matrix-write' }, body: { value: { on: true } } }),
    expect: { admin: 200, service: 200, user: 403, own: 403, other: 403 },
  },
  'subscriptions-create': {
    request: () => ({
      method: 'POST',
      body: { eventTypes: ['user_update'], url: 'http://127.0.0.1:9/matrix' },
    }),
    expect: { admin: 201, service: 201, user: 201, own: 201, other: 201 },
  },
  'subscriptions-attempts-list': {
    request: async (t) => ({ method: 'GET', params: { id: await t.subscription() }, query: { limit: '10' } }),
    expect: OWNED(200),
  },
  'subscriptions-recover': {
    request: async (t) => ({
      method: 'POST',
      params: { id: await t.subscription() },
      body: { since: new Date(Date.now() - 60_000).toISOString() },
    }),
    expect: OWNED(202),
  },
  'subscriptions-enable': {
    request: async (t) => ({ method: 'POST', params: { id: await t.subscription() } }),
    expect: OWNED(200),
  },
  'subscriptions-dead-letters-list': {
    request: async (t) => ({ method: 'GET', params: { id: await t.subscription() } }),
    expect: OWNED(200),
  },
  'subscriptions-dead-letters-redeliver': {
    request: async (t) => ({ method: 'POST', params: { id: await t.subscription() } }),
    expect: OWNED(202),
  },
  'subscriptions-delete': {
    request: async (t) => ({ method: 'DELETE', params: { id: await t.subscription() } }),
    expect: OWNED(204),
  },
  'subscriptions-list': { request: () => ({ method: 'GET' }), expect: ALL_200 },
  // No AI provider in this fixture: embeddings and generation would be 503. An invalid body (checked
  // after authorization) shows who gets past it without needing a provider.
  'text-embeddings-create': {
    request: () => ({ method: 'POST', body: { texts: [] } }),
    expect: ALL_400,
  },
  'text-generate-run': {
    request: () => ({ method: 'POST', body: { prompt: 'Say hi', maxTokens: 1 } }),
    expect: ALL_400,
  },
  'text-key-phrases-run': {
    request: () => ({
      method: 'POST',
      body: { text: 'Senior data engineer building Kafka pipelines.', max: 3 },
    }),
    expect: ALL_200,
  },
  'text-language-run': {
    request: () => ({ method: 'POST', body: { text: 'Wir suchen eine Pflegekraft für unser Team.' } }),
    expect: ALL_200,
  },
  'text-sentiment-run': {
    request: () => ({ method: 'POST', body: { text: 'I love this team.' } }),
    expect: ALL_200,
  },
  'tokens-get': {
    request: (t) => ({ method: 'GET', params: { userId: t.userId } }),
    expect: FOR_SELF(200),
  },
  'tokens-grant': {
    request: (t) => ({ method: 'POST', params: { userId: t.userId }, body: { amount: 5 } }),
    expect: ADMIN_ONLY(200),
  },
  'usage-get': {
    request: (t) => ({ method: 'GET', query: { userId: t.userId } }),
    expect: ADMIN_ONLY(200),
  },
  'users-delete': {
    request: async (t) => {
      await t.fx.services.sync.sync(t.userId, { data: { name: t.userId } }, 'admin');
      return { method: 'DELETE', params: { userId: t.userId } };
    },
    expect: ADMIN_ONLY(204),
  },
  'users-get': {
    request: async (t) => {
      await t.fx.services.sync.sync(t.userId, { data: { name: t.userId } }, 'admin');
      return { method: 'GET', params: { userId: t.userId } };
    },
    expect: FOR_SELF(200),
  },
  'users-sync': {
    request: (t) => ({ method: 'POST', params: { userId: t.userId }, body: { data: { city: 'Bergen' } } }),
    expect: FOR_SELF(200),
  },
};

async function* chunks(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

describe('authorization matrix: role × route × owner over every registered route', () => {
  let issuer: OidcIssuer;
  let services: Services;
  let cleanup: () => Promise<void>;
  let stopConsumer: (() => Promise<void>) | undefined;
  const clock = new ManualClock(Date.now());
  const credentials = {} as Record<Exclude<Column, 'other'>, Record<string, string>>;
  const targets = {} as Record<'alice' | 'bob', Target>;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    ({ services, cleanup } = makeTestServices(
      { ...issuerSettings(issuer), BRIDGE_WEBHOOK_ALLOW_PRIVATE: 'true' },
      clock,
    ));
    setServices(services);
    const key = async (role: 'admin' | 'user' | 'service', limits = {}) =>
      ({ 'x-api-key': (await services.apiKeys.issue(role, `matrix ${role}`, limits)).key }) as Record<
        string,
        string
      >;
    credentials.admin = await key('admin');
    credentials.service = await key('service');
    credentials.user = await key('user');
    credentials.scoped = await key('user', { scopes: SCOPED_KEY_SCOPES });
    credentials.expired = await key('user', { expiresAt: clock.now() + 1000 });
    clock.advance(2000);
    credentials.own = { authorization: `Bearer ${await issuer.sign({ sub: 'alice' }, { expiresIn: 3600 })}` };

    // Quarantine entries name a consumer of the outbox topic running here (redelivery goes to it).
    const outbox = services.outboxTopic;
    if (!outbox) throw new Error('the matrix expects the outbox topic (the embedded default)');
    stopConsumer = await outbox.consume({
      topic: 'bridge-events',
      subscription: { name: 'matrix', maxDeliveryCount: 1 },
      handler: async () => {},
      maxConcurrentCalls: 1,
    });
    const quarantine = new EventQuarantine(
      services.store.collection(services.config.store.container),
      clock,
      3600,
    );
    const committed: OutboxItem[] = [];
    services.commits.subscribe((items) => committed.push(...items));
    const fx: Fixtures = {
      services,
      freshKeyId: async () => (await services.apiKeys.issue('user', 'to revoke')).id,
      quarantined: async () => {
        const admin = keyPrincipal('matrix', 'admin', 'matrix');
        await services.publisher.publish({ type: 'portal_note', data: { poison: true } }, admin);
        const item = committed.at(-1);
        if (!item) throw new Error('no commit notification for the published event');
        return (await quarantine.add(item, 'bridge-events/matrix', 'matrix: refused')).id;
      },
    };
    for (const userId of ['alice', 'bob'] as const) {
      const owner = endUserPrincipal(userId);
      await services.sync.sync(userId, { data: { name: userId } }, 'admin');
      await services.tokens.grant({ userId, amount: 10_000, principal: owner });
      const operation = await services.commands.enqueue(
        { command: 'sync_user_data', userId, data: { seen: true } },
        owner,
      );
      targets[userId] = {
        userId,
        file: `users/${userId}/cv.txt`,
        operationId: operation.id,
        subscription: async () =>
          (await services.webhooks.subscribe(['user_update'], 'http://127.0.0.1:9/owned', owner)).id,
        fx,
      };
    }
  });
  afterAll(async () => {
    await stopConsumer?.();
    setServices(undefined);
    await cleanup();
    await issuer.close();
  });

  it('has exactly one entry per registered route, and a handler for each', () => {
    const names = routes.map((r) => r.name).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(names);
    for (const name of names) expect([name, handlers.has(name)]).toEqual([name, true]);
  });

  it.each(routes.map((r) => [r.name, r] as const))('%s', async (name, route) => {
    const entry = MATRIX[name];
    if (!entry) throw new Error(`No matrix entry for route ${name}: add one to MATRIX (see the header).`);
    const handler = handlers.get(name) as HttpHandler;
    const isPublic = route.access === 'public';
    const scope = route.access === 'public' ? undefined : route.access.scope;
    const expected: Record<Column, number> = {
      ...entry.expect,
      scoped: isPublic || SCOPED_KEY_SCOPES.includes(scope as Scope) ? entry.expect.user : 403,
      expired: isPublic ? entry.expect.admin : 401,
    };
    const actual = {} as Record<Column, number>;
    for (const column of COLUMNS) {
      const target = column === 'other' ? targets.bob : targets.alice;
      const headers = column === 'other' ? credentials.own : credentials[column];
      const request = await entry.request(target);
      const res = await invokeHandler(handler, {
        ...request,
        headers: { ...request.headers, ...headers },
      });
      actual[column] = res.status;
      if (res.status >= 500) throw new Error(`${name} as ${column}: ${res.status} ${res.raw}`);
    }
    expect(actual).toEqual(expected);
  });
});
