/**
 * e2e: resumes and profile skills over HTTP on the local host, with the project's fixture files
 * (tests/fixtures/resumes): text found, sections split, skills normalised against the taxonomy,
 * language detected; corrupt, encrypted and image-only PDFs refused with 422 and nothing stored;
 * the file under users/{userId}/resumes/; events committed with each change.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  cleanupLocalHosts,
  startLocalHostProcess,
  type LocalHostProcess,
} from '../helpers/local-host-process';
import { call, client, expectProblem, type Client } from './client';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'resumes');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

let host: LocalHostProcess;
let admin: Client;
let portal: Client;
let portalKey: string;

beforeAll(async () => {
  host = await startLocalHostProcess({ env: { BRIDGE_RESUME_MAX_BYTES: '200000' } });
  admin = client(host.baseUrl, host.adminKey);
  portalKey = (await admin.post('/keys', { role: 'user', name: 'user portal' })).body.key as string;
  portal = client(host.baseUrl, portalKey);
}, 60_000);

afterAll(cleanupLocalHosts);

const upload = (userId: string, fileName: string, body: Buffer, contentType: string, key = portalKey) =>
  call(
    host.baseUrl,
    'POST',
    `/resumes?userId=${encodeURIComponent(userId)}&fileName=${encodeURIComponent(fileName)}`,
    {
      key,
      raw: body,
      headers: { 'content-type': contentType },
    },
  );

const EXPECTED_SKILLS = ['python', 'sql', 'spark', 'airflow', 'docker', 'kubernetes', 'data modeling'];

describe.each([
  ['resume.pdf', 'application/pdf', 'pdf'],
  ['resume.docx', DOCX, 'docx'],
  ['resume.txt', 'text/plain; charset=utf-8', 'text'],
])('%s', (file, contentType, format) => {
  it('is stored, its text extracted, its sections split and its skills normalised', async () => {
    const userId = `ann-${format}`;
    const res = await upload(userId, `Ann Example CV.${file.split('.')[1]}`, fixture(file), contentType);
    expect(res.status).toBe(201);
    const resume = res.body;
    expect(resume).toMatchObject({ userId, format, textExtracted: true, version: 1, truncated: false });
    expect(resume.id).toMatch(/^res_[a-f0-9]{24}$/);
    expect(resume.language.language).toBe('eng');
    expect(resume.extractedChars).toBeGreaterThan(500);
    expect(resume.filePath).toMatch(new RegExp(`^users/${userId}/resumes/${resume.id}/v1-Ann-Example-CV\\.`));
    const names = resume.sections.sections.map((s: { name: string }) => s.name);
    expect(names).toEqual(['summary', 'experience', 'education', 'skills']);
    const experience = resume.sections.sections.find((s: { name: string }) => s.name === 'experience');
    expect(experience.lines[0]).toBe('Senior Data Engineer, Acme Analytics (2022 - present)');
    const listed = resume.skills
      .filter((s: { source: string }) => s.source === 'skills-section')
      .map((s: { skill: string }) => s.skill);
    // "Apache Spark" → spark, "K8s" → kubernetes, "Data Modeling" → data modeling (taxonomy names)
    expect(listed.sort()).toEqual([...EXPECTED_SKILLS].sort());
    expect(resume.unrecognizedSkills).toEqual(['terraform']);
    // mentioned only in the text: ETL, Tableau, Power BI, A/B testing
    const fromText = resume.skills
      .filter((s: { source: string }) => s.source === 'text')
      .map((s: { skill: string }) => s.skill);
    expect(fromText).toEqual(expect.arrayContaining(['etl', 'tableau', 'power bi', 'a/b testing']));
    if (format === 'pdf') expect(resume.pages).toBe(1);

    // the file is where it says, under the user's area, byte for byte
    const stored = await fetch(`${host.baseUrl}/files/${resume.filePath}`, {
      headers: { 'x-api-key': portalKey },
    });
    expect(stored.status).toBe(200);
    expect(Buffer.from(await stored.arrayBuffer()).equals(fixture(file))).toBe(true);

    // read back, with the text
    const got = await portal.get(`/resumes/${resume.id}?include=text`);
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"v1"');
    expect(got.body.text).toContain('Built ETL pipelines in Python and SQL');
  });
});

it('corrupt, encrypted and image-only PDFs are a 422 naming why, and nothing is stored', async () => {
  const userId = 'bad-files';
  for (const [file, reason] of [
    ['corrupt.pdf', 'corrupt'],
    ['encrypted.pdf', 'encrypted'],
    ['image-only.pdf', 'no-text'],
  ] as const) {
    const res = await upload(userId, file, fixture(file), 'application/pdf');
    const problem = expectProblem(res, 422);
    expect((problem.errors as { message: string }[])[0]?.message).toMatch(new RegExp(`^${reason}:`));
  }
  // not UTF-8 text, an unsupported type, an empty body, too large
  expectProblem(await upload(userId, 'x.txt', Buffer.from([0xc3, 0x28, 0x41]), 'text/plain'), 422);
  expectProblem(
    await upload(userId, 'x.png', Buffer.from('\x89PNG\r\n\x1a\n....', 'latin1'), 'image/png'),
    415,
  );
  expectProblem(await upload(userId, 'x.txt', Buffer.alloc(0), 'text/plain'), 400);
  expectProblem(await upload(userId, 'big.txt', Buffer.alloc(200_001, 'a'), 'text/plain'), 413);
  expectProblem(await upload(userId, 'a/b.txt', Buffer.from('hi'), 'text/plain'), 400);
  const list = await portal.get(`/resumes?userId=${userId}`);
  expect(list.body.resumes).toEqual([]);
  const files = await admin.get(`/files?prefix=users/${userId}/`);
  expect(files.body.files).toEqual([]);
});

it('multipart upload, list newest first, replace with If-Match, delete; each change an event', async () => {
  const userId = 'bob';
  const form = new FormData();
  form.append('file', new Blob([fixture('resume.txt')], { type: 'text/plain' }), 'bob.txt');
  const first = await fetch(`${host.baseUrl}/resumes?userId=${userId}`, {
    method: 'POST',
    headers: { 'x-api-key': portalKey },
    body: form,
  });
  expect(first.status).toBe(201);
  const a = (await first.json()) as { id: string; fileName: string; filePath: string };
  expect(a.fileName).toBe('bob.txt');
  const b = (await upload(userId, 'bob.pdf', fixture('resume.pdf'), 'application/pdf')).body;
  const list = await portal.get(`/resumes?userId=${userId}`);
  expect(list.body.resumes.map((r: { id: string }) => r.id)).toEqual([b.id, a.id]);

  // replace the first with a DOCX: version 2, moved to the front, old file gone
  const stale = await call(host.baseUrl, 'PUT', `/resumes/${a.id}?fileName=bob.docx`, {
    key: portalKey,
    raw: fixture('resume.docx'),
    headers: { 'content-type': DOCX, 'if-match': '"v7"' },
  });
  expectProblem(stale, 412);
  const replaced = await call(host.baseUrl, 'PUT', `/resumes/${a.id}?fileName=bob.docx`, {
    key: portalKey,
    raw: fixture('resume.docx'),
    headers: { 'content-type': DOCX, 'if-match': '"v1"' },
  });
  expect(replaced.status).toBe(200);
  expect(replaced.body).toMatchObject({ id: a.id, version: 2, format: 'docx', fileName: 'bob.docx' });
  expect((await portal.get(`/resumes?userId=${userId}`)).body.resumes[0].id).toBe(a.id);
  expect(
    (await fetch(`${host.baseUrl}/files/${a.filePath}`, { headers: { 'x-api-key': portalKey } })).status,
  ).toBe(404);

  expect((await portal.delete(`/resumes/${b.id}`)).status).toBe(204);
  expectProblem(await portal.get(`/resumes/${b.id}`), 404);
  expectProblem(await portal.delete(`/resumes/${b.id}`), 404);
  expect((await admin.get(`/files?prefix=users/${userId}/resumes/${b.id}/`)).body.files).toEqual([]);

  const events = await admin.get(`/events?after=0&types=resume_change&subject=${userId}`);
  expect(events.body.events.map((e: { data: { action: string } }) => e.data.action)).toEqual([
    'created',
    'created',
    'updated',
    'deleted',
  ]);
});

it('an unknown or malformed resume id is a 404 or a 400, never a 500', async () => {
  expectProblem(await portal.get('/resumes/res_000000000000000000000000'), 404);
  expectProblem(await portal.get('/resumes/a%2fb'), 400);
  expectProblem(await portal.get('/resumes'), 400); // a portal key must name the user
});

it('profile skills: added and removed, normalised, as a sync with its user_update event', async () => {
  const userId = 'cara';
  await admin.post(`/users/${userId}/sync`, { data: { name: 'Cara', skills: ['Excel'] } });
  const res = await portal.post(`/profile/${userId}/skills`, {
    add: ['K8s', 'Python', 'Quantum Knitting'],
    remove: ['excel'],
  });
  expect(res.status).toBe(200);
  expect(res.body.skills).toEqual(['kubernetes', 'python', 'quantum knitting']);
  expect(res.body.added).toEqual([
    { input: 'K8s', skill: 'kubernetes', known: true },
    { input: 'Python', skill: 'python', known: true },
    { input: 'Quantum Knitting', skill: 'quantum knitting', known: false },
  ]);
  expect(res.body.sync).toMatchObject({ success: true, applied: ['skills'] });
  const profile = await portal.get(`/users/${userId}`);
  expect(profile.body.data).toEqual({ name: 'Cara', skills: ['kubernetes', 'python', 'quantum knitting'] });
  expect(profile.body.fields.skills.source).toBe('user');
  const events = await admin.get(`/events?after=0&types=user_update&subject=${userId}`);
  expect(events.body.events.at(-1).data.changes).toEqual({
    skills: ['kubernetes', 'python', 'quantum knitting'],
  });

  expectProblem(await portal.post(`/profile/${userId}/skills`, {}), 400);
  expectProblem(await portal.post(`/profile/${userId}/skills`, { add: ['sql'], remove: ['SQL'] }), 400);
});
