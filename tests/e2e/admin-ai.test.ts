/**
 * e2e: AI admin over the local host — enrichment from the profile and the latest CV (text, PDF or Word; an admin
 * write with its event), the models' status, and content generation through the provider lock
 * against a fake OpenAI-compatible provider: a valid answer is used, an invalid one is not (the
 * answer is then the template draft, degraded), and no provider means the template too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { FakeOpenAIServer } from '../helpers/fake-openai-server';
import { client, expectProblem, type AnyJson, type Client } from './client';
import { eventsOf, issueKey, waitFor } from './admin-helpers';

afterAll(cleanupLocalHosts);

let fake: FakeOpenAIServer;
let host: LocalHostProcess;
let admin: Client;

beforeAll(async () => {
  fake = await FakeOpenAIServer.start();
  host = await startLocalHostProcess({
    env: {
      AI_OPENAI_API_KEY: 'sk-test',
      AI_OPENAI_MODEL: 'gpt-test',
      AI_OPENAI_BASE_URL: fake.baseUrl(),
      AI_PROVIDER_ORDER: 'openai',
      AI_FAILURE_THRESHOLD: '1',
      AI_COOLDOWN_SECONDS: '600',
    },
    startTimeoutMs: 60_000,
  });
  admin = client(host.baseUrl, host.adminKey);
}, 90_000);
afterAll(async () => fake?.close());

const CV = [
  'Curriculum vitae. I am a data engineer with five years of experience building pipelines.',
  'I work every day with Spark, Airflow and data warehousing on cloud platforms, and I model data.',
].join('\n');

describe('POST /api/admin/ai/enrich', () => {
  it('writes the normalised title, skills from the profile and the latest CV, and the language, with its event', async () => {
    await admin.post('/admin/users', {
      userId: 'ann',
      data: { name: 'Ann', jobTitle: 'Sr. Data Engineer', skills: 'SQL, Python' },
    });
    // An older CV that is not text, then the latest one as text.
    await admin.call('PUT', '/files/users/ann/old-cv.pdf', {
      raw: Buffer.from('%PDF-1.4'),
      headers: { 'content-type': 'application/pdf' },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await admin.call('PUT', '/files/users/ann/cv-2026.txt', {
      raw: Buffer.from(CV),
      headers: { 'content-type': 'text/plain' },
    });
    const r = await admin.post('/admin/ai/enrich', { userId: 'ann' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      userId: 'ann',
      changed: true,
      version: 2,
      event: { id: 'user:ann:2', type: 'user_update' },
      enrichment: {
        normalizedJobTitle: 'Senior Data Engineer',
        titleId: 'senior-data-engineer',
        seniority: 'senior',
        skillSources: { profile: ['SQL', 'Python'] },
        language: { code: 'en', source: 'cv' },
        cv: { path: 'users/ann/cv-2026.txt', read: true },
      },
    });
    expect(r.body.enrichment.skillSources.cv).toEqual(
      expect.arrayContaining(['spark', 'airflow', 'data warehousing', 'cloud platforms']),
    );
    expect(r.body.enrichment.skills.slice(0, 2)).toEqual(['SQL', 'Python']);
    const user = await admin.get('/users/ann');
    expect(user.body.data.enrichment).toEqual(r.body.enrichment);
    expect(user.body.fields.enrichment.source).toBe('admin');
    expect((await eventsOf(admin, 'ann')).map((e: AnyJson) => e.id)).toEqual(['user:ann:1', 'user:ann:2']);
    // Nothing new to say: no new version, no event.
    const again = await admin.post('/admin/ai/enrich', { userId: 'ann' });
    expect(again.body).toMatchObject({ changed: false, version: 2 });
  });

  it('reads a PDF or Word CV on the text workers, and says why one could not be read', async () => {
    const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/resumes', name));
    const enrichWith = async (userId: string, file: string, contentType: string) => {
      await admin.post('/admin/users', { userId, data: { name: userId, jobTitle: 'Data Engineer' } });
      const put = await admin.call('PUT', `/files/users/${userId}/${file}`, {
        raw: fixture(file.replace(/^cv-/, '')),
        headers: { 'content-type': contentType },
      });
      expect(put.status).toBeLessThan(300);
      const r = await admin.post('/admin/ai/enrich', { userId });
      expect(r.status).toBe(200);
      return r.body.enrichment as AnyJson;
    };

    const pdf = await enrichWith('pdf-cv', 'cv-resume.pdf', 'application/pdf');
    expect(pdf).toMatchObject({
      cv: { path: 'users/pdf-cv/cv-resume.pdf', read: true },
      language: { code: 'en', source: 'cv' },
    });
    expect(pdf.cv.reason).toBeUndefined();
    expect(pdf.skillSources.cv).toEqual(expect.arrayContaining(['spark', 'airflow', 'tableau']));

    const docx = await enrichWith(
      'docx-cv',
      'cv-resume.docx',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(docx).toMatchObject({ cv: { read: true }, language: { code: 'en', source: 'cv' } });
    expect(docx.skillSources.cv).toEqual(expect.arrayContaining(['spark', 'airflow', 'tableau']));

    const corrupt = await enrichWith('corrupt-cv', 'cv-corrupt.pdf', 'application/pdf');
    expect(corrupt.cv).toMatchObject({ read: false, reason: expect.stringMatching(/^corrupt: /) });
    expect(corrupt.skillSources.cv).toEqual([]);
    const scanned = await enrichWith('scanned-cv', 'cv-image-only.pdf', 'application/pdf');
    expect(scanned.cv).toMatchObject({ read: false, reason: expect.stringMatching(/^no-text: /) });
  });

  it('does not read a PDF CV over BRIDGE_RESUME_MAX_BYTES', async () => {
    const small = await startLocalHostProcess({
      env: { BRIDGE_RESUME_MAX_BYTES: '2048' },
      startTimeoutMs: 60_000,
    });
    const api = client(small.baseUrl, small.adminKey);
    await api.post('/admin/users', { userId: 'big-cv', data: { name: 'Big' } });
    const pdf = readFileSync(join(__dirname, '../fixtures/resumes/resume.pdf'));
    expect(pdf.length).toBeGreaterThan(2048);
    await api.call('PUT', '/files/users/big-cv/cv.pdf', {
      raw: pdf,
      headers: { 'content-type': 'application/pdf' },
    });
    const r = await api.post('/admin/ai/enrich', { userId: 'big-cv' });
    expect(r.status).toBe(200);
    expect(r.body.enrichment.cv).toMatchObject({
      read: false,
      reason: `${pdf.length} bytes is over the 2048-byte limit (BRIDGE_RESUME_MAX_BYTES)`,
    });
  }, 90_000);

  it('says what it could not find instead of guessing', async () => {
    await admin.post('/admin/users', { userId: 'bob', data: { name: 'Bob' } });
    const r = await admin.post('/admin/ai/enrich', { userId: 'bob' });
    expect(r.body.enrichment).toMatchObject({
      normalizedJobTitle: null,
      skills: [],
      language: null,
      cv: null,
    });
    expect(r.body.notes.length).toBe(2);
  });

  it('refuses unknown users, bad bodies and non-admin keys, creating nothing', async () => {
    expectProblem(await admin.post('/admin/ai/enrich', { userId: 'ghost' }), 404);
    expect((await admin.get('/users/ghost')).status).toBe(404);
    for (const body of [{}, { userId: 'a/b' }, { userId: 'ann', extra: 1 }]) {
      expectProblem(await admin.post('/admin/ai/enrich', body), 400);
    }
    const userKey = await issueKey(admin, 'user');
    expectProblem(await client(host.baseUrl, userKey).post('/admin/ai/enrich', { userId: 'ann' }), 403);
    expectProblem(await client(host.baseUrl, userKey).get('/admin/ai/models/status'), 403);
    expectProblem(
      await client(host.baseUrl, userKey).post('/admin/ai/content/generate', {
        kind: 'outreach_email',
        input: { candidateName: 'A', jobTitle: 'B' },
      }),
      403,
    );
  });

  it('has a queued form (enrich_user)', async () => {
    const queued = await admin.post('/operations', { command: 'enrich_user', userId: 'bob' });
    const done = await waitFor(
      () => admin.get(`/operations/${queued.body.id}`),
      (r) => r.body.status !== 'queued',
    );
    expect(done.body).toMatchObject({ status: 'succeeded', result: { userId: 'bob', changed: false } });
  });
});

describe('content generation and the models status', () => {
  const request = {
    kind: 'job_description',
    input: { title: 'Data Engineer', company: 'Acme', skills: ['Python', 'Spark'] },
  };

  it('uses the locked provider when its answer matches the schema', async () => {
    fake.reset();
    fake.responder = () => ({
      headline: 'Data Engineer — Acme',
      summary: 'Acme is hiring a Data Engineer.',
      responsibilities: ['Build pipelines'],
      requirements: ['Python', 'Spark'],
    });
    const r = await admin.post('/admin/ai/content/generate', request);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      kind: 'job_description',
      content: { headline: 'Data Engineer — Acme', requirements: ['Python', 'Spark'] },
      metadata: { provider: 'openai', degraded: false },
    });
    const sent = fake.requestsTo('default').at(-1);
    expect(sent?.body.response_format?.type).toBe('json_schema');
    expect(JSON.stringify(sent?.body.messages)).toContain('Acme');
  });

  it('never passes on an answer that breaks the schema: the template draft answers, degraded, naming the failure', async () => {
    fake.reset();
    fake.responder = () => ({
      headline: 'x',
      summary: 'y',
      responsibilities: 'not a list',
      requirements: [],
    });
    const r = await admin.post('/admin/ai/content/generate', request);
    expect(r.body.metadata).toMatchObject({
      provider: 'template',
      degraded: true,
      failure: { provider: 'openai', kind: 'invalid-output' },
      placeholders: ['responsibilities'],
    });
    expect(r.body.content).toEqual({
      headline: 'Data Engineer — Acme',
      summary: 'We are looking for a Data Engineer at Acme.',
      responsibilities: ['[responsibilities]'],
      requirements: ['Experience with Python', 'Experience with Spark'],
    });
    // One failure trips openai (AI_FAILURE_THRESHOLD=1): the status shows it cooling down.
    const status = await admin.get('/admin/ai/models/status');
    expect(status.status).toBe(200);
    const openai = status.body.providers.find((p: AnyJson) => p.name === 'openai');
    expect(openai).toMatchObject({
      configured: true,
      model: 'gpt-test',
      structuredOutput: 'json_schema',
      health: 'unhealthy',
      coolingDown: true,
      lastError: { kind: 'invalid-output' },
    });
    expect(openai.cooldownRemainingSeconds).toBeGreaterThan(500);
    expect(status.body.active).toBe('heuristic');
    // While it cools down, nothing is sent to it: the template answers at once.
    const before = fake.requests.length;
    const next = await admin.post('/admin/ai/content/generate', {
      kind: 'outreach_email',
      input: { candidateName: 'Ann', jobTitle: 'Data Engineer' },
    });
    expect(next.body.metadata).toMatchObject({ provider: 'template', degraded: true });
    expect(next.body.content.body).toContain('Dear Ann');
    expect(fake.requests.length).toBe(before);
  });

  it('refuses unknown kinds and bad inputs with 400', async () => {
    for (const body of [
      {},
      { kind: 'poem', input: {} },
      { kind: 'job_description', input: {} },
      { kind: 'outreach_email', input: { candidateName: 'A' } },
      { kind: 'profile_summary', input: { jobTitle: 'x', skills: Array(51).fill('s') } },
      { kind: 'profile_summary', input: { jobTitle: 'x'.repeat(201) } },
    ]) {
      expectProblem(await admin.post('/admin/ai/content/generate', body), 400);
    }
    expectProblem(
      await admin.post('/operations', { command: 'generate_content', kind: 'poem', input: {} }),
      400,
    );
  });
});
