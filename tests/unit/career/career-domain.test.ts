import {
  checkTransition,
  TRANSITIONS,
  APPLICATION_STATUSES,
} from '../../../shared/domain/career/applications';
import { candidateView, titlePartOfLine } from '../../../shared/domain/career/candidate';
import {
  PostingCorpus,
  fieldTerms,
  matchPostings,
  searchPostings,
  searchTerms,
  seniorityFit,
  type RankablePosting,
} from '../../../shared/domain/career/job-ranking';
import { recommendCareer } from '../../../shared/domain/career/recommendations';
import { detectResumeFormat, parseResumeSections } from '../../../shared/domain/career/resume';
import {
  buildSkillVocabulary,
  findSkillMentions,
  normalizeSkill,
} from '../../../shared/domain/career/skills';
import { clauses, rakeKeyPhrases, sentimentLabel } from '../../../shared/domain/text/analytics';
import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';

const index = fileBuiltInTaxonomy();
const vocabulary = buildSkillVocabulary(index.taxonomy.titles);

describe('skills against the taxonomy', () => {
  it.each([
    ['Python', 'python', true],
    ['  K8s ', 'kubernetes', true],
    ['Node', 'node.js', true],
    ['Microsoft Excel', 'excel', true],
    ['API', 'apis', true],
    ['C++', 'c++', true],
    ['CI/CD.', 'ci/cd', true],
    ['Quantum Knitting', 'quantum knitting', false],
  ])('%s → %s (known %s)', (input, skill, known) => {
    expect(normalizeSkill(vocabulary, input)).toEqual({ input, skill, known });
  });

  it('finds skill phrases in text, longest first, counting repeats', () => {
    const found = findSkillMentions(
      vocabulary,
      'Machine learning in Python; more Python, A/B tests and Python/SQL.',
    );
    expect(found).toEqual(
      expect.arrayContaining([
        { skill: 'python', count: 3 },
        { skill: 'machine learning', count: 1 },
        { skill: 'a/b testing', count: 1 },
        { skill: 'sql', count: 1 },
      ]),
    );
    expect(found[0]).toEqual({ skill: 'python', count: 3 });
  });
});

describe('resume sections', () => {
  it('splits English and German headings, keeps the header, lists skill items', () => {
    const parsed = parseResumeSections(
      'Max Muster\nBerlin\n\nBerufserfahrung:\nData Engineer bei Foo (2020 - heute)\n\nAusbildung\nMSc Informatik\n\nKenntnisse\nPython, SQL; Docker • Kafka\n\nHobbies\nChess',
    );
    expect(parsed.header).toEqual(['Max Muster', 'Berlin']);
    expect(parsed.sections.map((s) => [s.name, s.heading])).toEqual([
      ['experience', 'Berufserfahrung'],
      ['education', 'Ausbildung'],
      ['skills', 'Kenntnisse'],
      ['other', 'Hobbies'],
    ]);
    expect(parsed.skillItems).toEqual(['Python', 'SQL', 'Docker', 'Kafka']);
  });

  it('a long line that happens to contain a heading word is not a heading', () => {
    const parsed = parseResumeSections(
      'Experience\nI have experience with many education projects and skills.\n',
    );
    expect(parsed.sections).toHaveLength(1);
    expect(parsed.sections[0]?.lines).toHaveLength(1);
  });

  it('formats come from the bytes; the declared type only decides text and zips', () => {
    expect(detectResumeFormat(Buffer.from('%PDF-1.7 …'), 'text/plain')).toBe('pdf');
    expect(detectResumeFormat(Buffer.from('PK\x03\x04…', 'latin1'), null)).toBe('docx');
    expect(detectResumeFormat(Buffer.from('PK\x03\x04…', 'latin1'), 'application/zip')).toBeNull();
    expect(detectResumeFormat(Buffer.from('hello'), 'text/plain; charset=utf-8')).toBe('text');
    expect(detectResumeFormat(Buffer.from('hello'), 'application/pdf')).toBeNull();
  });
});

describe('application state machine', () => {
  it('admins move along the edges only; the candidate may only withdraw', () => {
    for (const from of APPLICATION_STATUSES) {
      for (const to of APPLICATION_STATUSES) {
        const edge = TRANSITIONS[from].includes(to);
        expect([from, to, checkTransition(from, to, 'admin').ok]).toEqual([from, to, edge]);
        expect([from, to, checkTransition(from, to, 'candidate').ok]).toEqual([
          from,
          to,
          edge && to === 'withdrawn',
        ]);
      }
    }
    expect(checkTransition('rejected', 'applied', 'admin')).toMatchObject({
      ok: false,
      reason: 'invalid-transition',
      allowed: [],
    });
    expect(checkTransition('applied', 'screening', 'candidate')).toMatchObject({
      ok: false,
      reason: 'not-allowed',
    });
  });
});

describe('job ranking', () => {
  const posting = (
    id: string,
    title: string,
    text: string,
    extra: Partial<RankablePosting> = {},
  ): RankablePosting => ({
    id,
    title: fieldTerms(title),
    text: fieldTerms(text),
    skills: [],
    seniority: null,
    remote: 'onsite',
    location: null,
    postedAt: null,
    ...extra,
  });

  it('BM25: a title match outranks a text match; rare terms weigh more; unmatched postings are left out', () => {
    const corpus = new PostingCorpus([
      posting('a', 'Kotlin Developer', 'Build Android apps.'),
      posting('b', 'Android Developer', 'Some Kotlin on the side.'),
      posting('c', 'Chef', 'Cook dinner.'),
    ]);
    const hits = searchPostings(corpus, { text: 'kotlin', skills: [] });
    expect(hits.map((h) => h.id)).toEqual(['a', 'b']);
    expect(hits[0]?.components.title).toBeGreaterThan(0);
    expect(hits[1]?.components.title).toBe(0);
    expect(searchTerms('The Developers, of APIs')).toEqual(['developer', 'api']);
  });

  it('skill overlap and distance add to relevance; the radius filters (remote is anywhere)', () => {
    const leeds = { lat: 53.8, lon: -1.55 };
    const corpus = new PostingCorpus([
      posting('near', 'Engineer', 'x', { location: leeds, skills: ['python'] }),
      posting('far', 'Engineer', 'x', { location: { lat: 51.5, lon: -0.13 }, skills: ['python', 'sql'] }),
      posting('remote', 'Engineer', 'x', { remote: 'remote', skills: ['python', 'sql'] }),
    ]);
    const hits = searchPostings(corpus, {
      text: 'engineer',
      skills: ['python', 'sql'],
      near: { ...leeds, radiusKm: 50 },
    });
    expect(hits.map((h) => h.id)).toEqual(['remote', 'near']);
    expect(hits[0]?.components.skills).toBe(3);
    expect(hits[1]?.components.skills).toBe(1.5);
  });

  it('matches score skill coverage, title relevance and seniority fit', () => {
    const corpus = new PostingCorpus([
      posting('x', 'Data Engineer', '', { skills: ['python', 'sql'], seniority: 'mid' }),
      posting('y', 'Data Engineer', '', { skills: ['python', 'sql', 'spark', 'etl'], seniority: 'director' }),
      posting('z', 'Nurse', '', { skills: ['care planning'] }),
    ]);
    const hits = matchPostings(corpus, {
      skills: ['python', 'sql'],
      titles: ['Data Engineer'],
      seniority: 'mid',
    });
    expect(hits.map((h) => h.id)).toEqual(['x', 'y']);
    expect(hits[0]).toMatchObject({ score: 100, missingSkills: [] });
    expect(hits[1]).toMatchObject({
      score: 55,
      missingSkills: ['spark', 'etl'],
      components: { seniorityFit: 0 },
    });
    expect(seniorityFit(null, 'mid')).toBe(0.5);
  });
});

describe('recommendations', () => {
  it('next roles from the current title with readiness, reasons and evidence; skills to learn', () => {
    const candidate = candidateView(index, {
      userId: 'u',
      profile: { jobTitle: 'Data Engineer', targetRole: 'Data Architect' },
      profileSkills: ['sql', 'python', 'spark'],
      resume: undefined,
    });
    const r = recommendCareer(index, candidate);
    expect(r.current).toMatchObject({ titleId: 'data-engineer', source: 'profile.jobTitle' });
    expect(r.nextRoles[0]).toMatchObject({ kind: 'target' });
    const senior = r.nextRoles.find((n) => n.titleId === 'senior-data-engineer');
    expect(senior).toMatchObject({ kind: 'promotion', matchedSkills: ['sql', 'python', 'spark'] });
    expect(senior?.readiness).toBeCloseTo(3 / 11, 3);
    expect(senior?.evidence).toEqual(
      expect.arrayContaining([{ source: 'profile', detail: 'has sql, python, spark' }]),
    );
    expect(r.skillsToLearn.length).toBeGreaterThan(0);
    for (const s of r.skillsToLearn) expect(['sql', 'python', 'spark']).not.toContain(s.skill);
  });

  it('without a title, suggests titles from skills alone; reads a title from a resume line', () => {
    expect(titlePartOfLine('Senior Data Engineer, Acme (2022 - present)')).toBe('Senior Data Engineer');
    expect(titlePartOfLine('Data Engineer bei Foo (2020 - heute)')).toBe('Data Engineer');
    const fromResume = candidateView(index, {
      userId: 'u',
      profile: undefined,
      profileSkills: [],
      resume: {
        id: 'res_1',
        skills: [],
        experienceLines: ['Acme Ltd', 'Senior Data Engineer, Acme (2022 - present)'],
        educationLines: [],
      },
    });
    expect(fromResume.current).toMatchObject({ titleId: 'senior-data-engineer', source: 'resume:res_1' });
    const skillsOnly = recommendCareer(
      index,
      candidateView(index, {
        userId: 'u',
        profile: undefined,
        profileSkills: ['javascript', 'react', 'css', 'html'],
        resume: undefined,
      }),
    );
    expect(skillsOnly.current).toBeNull();
    expect(skillsOnly.nextRoles[0]?.kind).toBe('skills-match');
    expect(skillsOnly.nextRoles.map((n) => n.family)).toContain('software-engineering');
  });
});

describe('text analytics arithmetic', () => {
  it('RAKE scores phrases by word degree / frequency; clauses never cross punctuation', () => {
    expect(clauses('One two. Three, four')).toEqual(['One two', 'Three', 'four']);
    const phrases = rakeKeyPhrases(['linear constraints', 'linear diophantine equations', 'set'], 2);
    expect(phrases.map((p) => p.phrase)).toEqual(['linear diophantine equations', 'linear constraints']);
    expect(sentimentLabel(0)).toBe('neutral');
    expect(sentimentLabel(-2)).toBe('negative');
  });
});
