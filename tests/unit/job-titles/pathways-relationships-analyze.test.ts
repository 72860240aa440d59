import { analyzeJobTitle } from '../../../shared/domain/job-titles/analyze';
import { getCareerPathways, promotionPaths } from '../../../shared/domain/job-titles/pathways';
import { getTitleRelationships, RELATION_KINDS } from '../../../shared/domain/job-titles/relationships';
import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';

const index = fileBuiltInTaxonomy();

describe('getCareerPathways', () => {
  it('lists next roles, lateral moves and previous roles from the progression graph', () => {
    const p = getCareerPathways(index, 'Sr. Software Engineer');
    expect(p.current?.titleId).toBe('senior-software-engineer');
    expect(p.nextRoles.map((r) => r.titleId)).toEqual([
      'technical-lead',
      'engineering-manager',
      'staff-software-engineer',
    ]);
    expect(p.lateralMoves.map((r) => r.titleId)).toEqual([
      'solutions-architect',
      'technical-product-manager',
    ]);
    expect(p.lateralMoves[1]?.changesFamily).toBe(true);
    expect(p.previousRoles.map((r) => r.titleId)).toContain('software-engineer');
    expect(p.note).toMatch(/curated editorial estimates/);
  });

  it('takes typical years from the dataset edges, never inventing them', () => {
    const edges = new Map(index.taxonomy.progression.map((e) => [`${e.from}>${e.to}`, e.typicalYears]));
    for (const id of ['software-engineer', 'registered-nurse', 'accountant', 'line-cook', 'recruiter']) {
      const p = getCareerPathways(index, index.titles.get(id)?.name as string);
      for (const r of [...p.nextRoles, ...p.lateralMoves])
        expect(r.typicalYears).toEqual(edges.get(`${id}>${r.titleId}`));
      for (const r of p.previousRoles) expect(r.typicalYears).toEqual(edges.get(`${r.titleId}>${id}`));
      for (const path of p.paths) {
        let from = id;
        let min = 0;
        let max = 0;
        for (const s of path.steps) {
          const y = edges.get(`${from}>${s.titleId}`);
          expect(y).toBeDefined();
          min += y?.min ?? NaN;
          max += y?.max ?? NaN;
          from = s.titleId;
        }
        expect(path.typicalYears).toEqual({ min, max });
      }
    }
  });

  it('enumerates multi-step promotion paths up to maxSteps, shortest time first', () => {
    const paths = promotionPaths(index, 'junior-software-engineer', 3);
    expect(paths[0]?.steps.map((s) => s.titleId)).toEqual([
      'software-engineer',
      'senior-software-engineer',
      'technical-lead',
    ]);
    for (const p of paths) expect(p.steps.length).toBeLessThanOrEqual(3);
    const mins = paths.map((p) => p.typicalYears.min);
    expect(mins).toEqual([...mins].sort((a, b) => a - b));
    const limited = getCareerPathways(index, 'Junior Software Engineer', { maxSteps: 3, maxPaths: 1 });
    expect(limited.paths).toHaveLength(1);
    expect(limited.omittedPaths).toBeGreaterThan(0);
  });

  it('answers an unknown title honestly', () => {
    const p = getCareerPathways(index, 'Chief Vibes Officer');
    expect(p).toMatchObject({ known: false, current: null, nextRoles: [], lateralMoves: [], paths: [] });
  });
});

describe('getTitleRelationships', () => {
  it('returns kinds with strengths, strongest first, aliases included', () => {
    const r = getTitleRelationships(index, 'Software Engineer', { limit: 200 });
    expect(r.titleId).toBe('software-engineer');
    const kinds = new Set(r.relationships.map((x) => x.kind));
    for (const k of [
      'alias',
      'progression-next',
      'progression-previous',
      'lateral',
      'related',
      'same-family',
    ] as const) {
      expect(kinds.has(k)).toBe(true);
    }
    const strengths = r.relationships.map((x) => x.strength);
    expect(strengths).toEqual([...strengths].sort((a, b) => b - a));
    for (const x of r.relationships) {
      expect(RELATION_KINDS).toContain(x.kind);
      expect(x.strength).toBeGreaterThan(0);
      expect(x.strength).toBeLessThanOrEqual(1);
    }
    const next = r.relationships.find((x) => x.titleId === 'senior-software-engineer');
    expect(next).toMatchObject({ kind: 'progression-next', typicalYears: { min: 2, max: 4 } });
    expect(next?.kinds).toContain('same-family');
    const ids = r.relationships.filter((x) => x.titleId).map((x) => x.titleId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('marks a shared abbreviation as weaker and filters by kind and limit', () => {
    const pm = getTitleRelationships(index, 'Product Manager', { kinds: ['abbreviation'] });
    expect(pm.relationships).toEqual([
      expect.objectContaining({ kind: 'abbreviation', title: 'PM', strength: 0.6 }),
    ]);
    const sre = getTitleRelationships(index, 'Site Reliability Engineer', { kinds: ['abbreviation'] });
    expect(sre.relationships[0]).toMatchObject({ title: 'SRE', strength: 0.95 });
    const limited = getTitleRelationships(index, 'Registered Nurse', { limit: 3 });
    expect(limited.relationships).toHaveLength(3);
    expect(limited.omitted).toBeGreaterThan(0);
  });

  it('has no relationships for an unknown title', () => {
    expect(getTitleRelationships(index, 'Zorblax Handler')).toMatchObject({
      known: false,
      relationships: [],
      omitted: 0,
    });
  });
});

describe('analyzeJobTitle', () => {
  it('returns normalised title, family, seniority, skills, related titles and confidence', () => {
    const a = analyzeJobTitle(index, 'Sr. Data Scientist', { skills: ['Python', 'SQL', 'Excel'] });
    expect(a).toMatchObject({
      known: true,
      normalizedTitle: 'Senior Data Scientist',
      titleId: 'senior-data-scientist',
      family: { id: 'data-analytics', name: 'Data & Analytics' },
      seniority: 'senior',
      seniorityLabel: 'Senior',
      soc: '15-2051',
      confidence: 1,
    });
    expect(a.skills).toEqual(expect.arrayContaining(['python', 'statistics', 'machine learning']));
    expect(a.relatedTitles[0]).toMatchObject({ titleId: 'lead-data-scientist', kind: 'progression-next' });
    expect(a.relatedTitles.length).toBeLessThanOrEqual(8);
    expect(a.skillMatch).toMatchObject({ matched: ['python', 'sql'], additional: ['Excel'] });
    expect(a.skillMatch?.coverage).toBeCloseTo(0.2, 3);
  });

  it('reports an unknown title with suggestions instead of guessing', () => {
    const a = analyzeJobTitle(index, 'Chief Happiness Officer');
    expect(a).toMatchObject({
      known: false,
      titleId: null,
      family: null,
      skills: [],
      relatedTitles: [],
      confidence: 0,
    });
    expect(a.alternatives.length).toBeGreaterThan(0);
  });
});
