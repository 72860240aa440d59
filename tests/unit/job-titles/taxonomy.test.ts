import { readFileSync } from 'node:fs';
import { builtInTaxonomyPath, fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';
import {
  buildTaxonomyIndex,
  getTitle,
  lateralMovesFrom,
  listFamilyTitles,
  loadTaxonomy,
  promotionsFrom,
  promotionsInto,
  TaxonomyValidationError,
  validateTaxonomy,
} from '../../../shared/domain/job-titles/taxonomy';
import {
  SENIORITY_LEVELS,
  taxonomySchema,
  type Taxonomy,
} from '../../../shared/domain/job-titles/taxonomy-schema';

const builtInJson: unknown = JSON.parse(readFileSync(builtInTaxonomyPath(), 'utf8'));

describe('built-in taxonomy dataset', () => {
  const parsed = taxonomySchema.safeParse(builtInJson);

  it('passes its schema', () => {
    if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues.slice(0, 5)));
    expect(parsed.success).toBe(true);
  });

  const taxonomy = parsed.success ? parsed.data : (undefined as unknown as Taxonomy);

  it('has at least 300 titles in at least 20 families, each family populated', () => {
    expect(taxonomy.titles.length).toBeGreaterThanOrEqual(300);
    expect(taxonomy.families.length).toBeGreaterThanOrEqual(20);
    for (const f of taxonomy.families) {
      expect(taxonomy.titles.filter((t) => t.family === f.id).length).toBeGreaterThanOrEqual(10);
    }
  });

  it('has no cross-record problems', () => {
    expect(validateTaxonomy(taxonomy)).toEqual([]);
  });

  it('resolves every related title and every progression edge', () => {
    const ids = new Set(taxonomy.titles.map((t) => t.id));
    const families = new Set(taxonomy.families.map((f) => f.id));
    for (const t of taxonomy.titles) {
      expect(families.has(t.family)).toBe(true);
      for (const r of t.related) expect(ids.has(r)).toBe(true);
    }
    for (const e of taxonomy.progression) {
      expect(ids.has(e.from)).toBe(true);
      expect(ids.has(e.to)).toBe(true);
      expect(e.typicalYears.min).toBeLessThanOrEqual(e.typicalYears.max);
    }
    expect(taxonomy.progression.filter((e) => e.kind === 'promotion').length).toBeGreaterThan(300);
  });

  it('gives every title skills, and aliases or abbreviations for most', () => {
    for (const t of taxonomy.titles) expect(t.skills.length).toBeGreaterThanOrEqual(3);
    const withAliases = taxonomy.titles.filter((t) => t.aliases.length + t.abbreviations.length > 0).length;
    expect(withAliases / taxonomy.titles.length).toBeGreaterThan(0.95);
  });

  it('uses every seniority level and connects almost every title to the progression graph', () => {
    const used = new Set(taxonomy.titles.map((t) => t.seniority));
    for (const level of SENIORITY_LEVELS) expect(used.has(level)).toBe(true);
    const connected = new Set(taxonomy.progression.flatMap((e) => [e.from, e.to]));
    const isolated = taxonomy.titles.filter((t) => !connected.has(t.id)).map((t) => t.id);
    expect(isolated.length / taxonomy.titles.length).toBeLessThan(0.1);
  });

  it('documents its sources and carries no published figures', () => {
    expect(taxonomy.sources.map((s) => s.id)).toEqual(expect.arrayContaining(['editorial', 'soc-2018']));
    // The strict schema admits no salary/employment fields; SOC codes are identifiers only.
    for (const t of taxonomy.titles) if (t.soc) expect(t.soc).toMatch(/^\d{2}-\d{4}$/);
  });
});

describe('taxonomy index', () => {
  const index = fileBuiltInTaxonomy();

  it('is built once', () => {
    expect(fileBuiltInTaxonomy()).toBe(index);
    expect(index.stats.titles).toBe(index.taxonomy.titles.length);
  });

  it('looks titles up by normalised name, alias and abbreviation', () => {
    expect(index.keys.get('senior software engineer')).toEqual({
      titleId: 'senior-software-engineer',
      kind: 'name',
    });
    expect(index.keys.get('software developer')).toEqual({ titleId: 'software-engineer', kind: 'alias' });
    expect(index.abbreviations.get('sre')).toEqual(['site-reliability-engineer']);
    expect(index.abbreviations.get('pm')).toEqual(['product-manager', 'project-manager']);
    expect(index.compactKeys.get('frontenddeveloper')).toBe('frontend-developer');
  });

  it('lists family titles and progression adjacency', () => {
    expect(listFamilyTitles(index, 'software-engineering').map((t) => t.id)).toContain('software-engineer');
    expect(listFamilyTitles(index, 'no-such-family')).toEqual([]);
    expect(getTitle(index, 'software-engineer')?.name).toBe('Software Engineer');
    expect(promotionsFrom(index, 'software-engineer').map((e) => e.to)).toEqual(['senior-software-engineer']);
    expect(promotionsInto(index, 'software-engineer').map((e) => e.from)).toEqual(
      expect.arrayContaining(['junior-software-engineer', 'computer-programmer']),
    );
    expect(lateralMovesFrom(index, 'software-engineer').length).toBeGreaterThan(2);
  });

  it('refuses a taxonomy with dangling references or colliding aliases', () => {
    const bad: Taxonomy = {
      schemaVersion: 1,
      name: 'bad',
      version: '1',
      sources: [],
      families: [{ id: 'f', name: 'F' }],
      titles: [
        {
          id: 'a',
          name: 'Alpha',
          family: 'f',
          seniority: 'mid',
          aliases: ['Sr. Beta'],
          abbreviations: [],
          skills: [],
          related: ['zzz'],
        },
        {
          id: 'b',
          name: 'Senior Beta',
          family: 'f',
          seniority: 'senior',
          aliases: [],
          abbreviations: [],
          skills: [],
          related: [],
        },
      ],
      progression: [{ from: 'a', to: 'nowhere', kind: 'promotion', typicalYears: { min: 1, max: 2 } }],
    };
    expect(() => buildTaxonomyIndex(bad)).toThrow(TaxonomyValidationError);
    const messages = validateTaxonomy(bad).map((i) => `${i.section}:${i.row}:${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'titles:1:related title "zzz" does not exist',
        'titles:2:"Senior Beta" normalises to "senior beta", already used by title "a"',
        'progression:1:to title "nowhere" does not exist',
      ]),
    );
    expect(() => loadTaxonomy({ schemaVersion: 2 })).toThrow(TaxonomyValidationError);
  });
});
