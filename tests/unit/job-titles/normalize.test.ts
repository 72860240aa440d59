import fc from 'fast-check';
import {
  cleanTitleText,
  expandTokens,
  extractSeniority,
  normalizeTitle,
  normalizeTitleText,
  tokenize,
} from '../../../shared/domain/job-titles/normalize';
import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';
import { TITLE_SPELLINGS } from './fixtures/title-spellings';
import { HOLDOUT_TITLE_SPELLINGS } from './fixtures/title-spellings-holdout';

const index = fileBuiltInTaxonomy();

function accuracy(list: ReadonlyArray<readonly [string, string | null]>): { rate: number; misses: string[] } {
  const misses: string[] = [];
  for (const [input, expected] of list) {
    const m = normalizeTitle(index, input);
    if (m.titleId !== expected)
      misses.push(`${input} → ${m.titleId ?? 'unknown'} (expected ${expected ?? 'unknown'})`);
  }
  return { rate: (list.length - misses.length) / list.length, misses };
}

describe('normalisation accuracy', () => {
  it('main list (used while tuning): at least 95%', () => {
    expect(TITLE_SPELLINGS.length).toBeGreaterThanOrEqual(120);
    const { rate, misses } = accuracy(TITLE_SPELLINGS);
    console.log(
      `normalisation accuracy, main list: ${(rate * 100).toFixed(1)}% of ${TITLE_SPELLINGS.length}` +
        (misses.length ? `\n  misses:\n  ${misses.join('\n  ')}` : ''),
    );
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });

  it('held-out list (never tuned on): at least 90%', () => {
    const { rate, misses } = accuracy(HOLDOUT_TITLE_SPELLINGS);
    console.log(
      `normalisation accuracy, held-out list: ${(rate * 100).toFixed(1)}% of ${HOLDOUT_TITLE_SPELLINGS.length}` +
        (misses.length ? `\n  misses:\n  ${misses.join('\n  ')}` : ''),
    );
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });
});

describe('text normalisation', () => {
  it('cleans case, punctuation, accents, gender markers and dotted acronyms', () => {
    expect(cleanTitleText('  Sr. Software-Engineer (m/w/d)  ')).toBe('sr software engineer');
    expect(cleanTitleText('Café Manager')).toBe('cafe manager');
    expect(cleanTitleText('I.T. Support & Help-Desk')).toBe('it support and help desk');
    expect(cleanTitleText('C++ / C# Developer')).toBe('c++ c# developer');
    expect(cleanTitleText("Children's Nurse")).toBe('childrens nurse');
  });

  it('expands common abbreviations with context', () => {
    const x = (s: string): string => expandTokens(tokenize(cleanTitleText(s))).join(' ');
    expect(x('Sr. SWE')).toBe('senior software engineer');
    expect(x('Jr Dev')).toBe('junior developer');
    expect(x('VP Eng')).toBe('vice president engineering');
    expect(x('Eng Mgr')).toBe('engineering manager');
    expect(x('Software Eng')).toBe('software engineer');
    expect(x('Biz Dev Rep')).toBe('business development representative');
    expect(x('Admin Asst')).toBe('administrative assistant');
    expect(x('Sys Admin')).toBe('systems administrator');
    expect(x('Tech Lead')).toBe('technical lead');
    expect(x('Pharmacy Tech')).toBe('pharmacy technician');
    expect(x('Dev Ops Engineer')).toBe('devops engineer');
    expect(x('Programme Manager, Call Centre')).toBe('program manager call center');
    expect(x('constructor __proto__ toString')).toBe('constructor proto tostring');
  });

  it('extracts seniority words and level numbers at either end', () => {
    expect(extractSeniority(['senior', 'data', 'engineer'])).toMatchObject({
      base: ['data', 'engineer'],
      seniority: 'senior',
    });
    expect(extractSeniority(['data', 'engineer', 'iii'])).toMatchObject({
      base: ['data', 'engineer'],
      seniority: 'senior',
    });
    expect(extractSeniority(['remote', 'junior', 'analyst', 'contract'])).toMatchObject({
      base: ['analyst'],
      seniority: 'entry',
      noise: ['remote', 'contract'],
    });
    expect(extractSeniority(['principal'])).toMatchObject({ base: ['principal'], seniority: null });
  });
});

describe('normalizeTitle', () => {
  const n = (s: string) => normalizeTitle(index, s);

  it.each([
    ['Sr. Software Engineer', 'senior-software-engineer', 'senior'],
    ['SWE', 'software-engineer', 'mid'],
    ['VP Eng', 'vp-of-engineering', 'vp'],
    ['Jr Accountant', 'junior-accountant', 'entry'],
    ['Eng Mgr', 'engineering-manager', 'manager'],
    ['Backend Dev', 'backend-developer', 'mid'],
    ['Sr PM', 'senior-product-manager', 'senior'],
  ])('%s → %s', (input, id, seniority) => {
    const m = n(input);
    expect(m.titleId).toBe(id);
    expect(m.seniority).toBe(seniority);
    expect(m.known).toBe(true);
  });

  it('keeps a base title and adjusts the seniority when there is no ladder title', () => {
    const m = n('Senior Frontend Developer');
    expect(m).toMatchObject({
      titleId: 'frontend-developer',
      canonicalTitle: 'Frontend Developer',
      normalizedTitle: 'Senior Frontend Developer',
      seniority: 'senior',
      seniorityAdjusted: true,
      modifiers: ['senior'],
    });
    expect(m.confidence).toBeLessThan(1);
    expect(n('Data Engineer 3').titleId).toBe('senior-data-engineer');
    expect(n('Senior Director of Engineering')).toMatchObject({
      titleId: 'director-of-engineering',
      seniority: 'director',
    });
  });

  it('flags an ambiguous abbreviation with a low confidence and the alternative', () => {
    const m = n('PM');
    expect(m.titleId).toBe('product-manager');
    expect(m.matchType).toBe('abbreviation');
    expect(m.confidence).toBeLessThan(0.6);
    expect(m.alternatives.map((a) => a.titleId)).toEqual(['project-manager']);
  });

  it('returns the nearest match with a confidence for typos', () => {
    const m = n('Sofware Enginer');
    expect(m).toMatchObject({ known: true, matchType: 'fuzzy', titleId: 'software-engineer' });
    expect(m.confidence).toBeGreaterThan(0.7);
    expect(m.confidence).toBeLessThan(0.95);
  });

  it('says "unknown" honestly, with suggestions and confidence 0', () => {
    const m = n('Chief Happiness Officer');
    expect(m).toMatchObject({ known: false, matchType: 'unknown', titleId: null, confidence: 0 });
    expect(m.normalizedTitle).toBe('Chief Happiness Officer');
    expect(m.alternatives.length).toBeGreaterThan(0);
    expect(n('')).toMatchObject({ known: false, normalizedTitle: '' });
    expect(n('Senior Zorblax')).toMatchObject({ known: false, seniority: 'senior' });
  });

  it('is deterministic', () => {
    expect(n('Staff Data Eng (Remote, m/f/d)')).toEqual(n('Staff Data Eng (Remote, m/f/d)'));
  });
});

describe('normalisation properties', () => {
  const names = index.taxonomy.titles.flatMap((t) => [t.name, ...t.aliases.slice(0, 3)]);
  const known = fc.constantFrom(...names);
  const decorated = fc
    .tuple(
      known,
      fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
      fc.constantFrom('', '.', ' ', '  ', '-', '_', '"'),
      fc.constantFrom('', ' ', '  ', '\t'),
    )
    .map(([title, upper, sep, pad]) => {
      const cased = [...title]
        .map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch.toLowerCase()))
        .join('');
      return pad + cased.split(' ').join(`${sep} `) + (sep === '.' ? '.' : '') + pad;
    });

  it('is insensitive to case and punctuation', () => {
    fc.assert(
      fc.property(decorated, (variant) => {
        const plain = normalizeTitleText(variant.replace(/[."_-]/g, ' '));
        return normalizeTitleText(variant) === plain;
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (title, upper) => {
          const cased = [...title].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch)).join('');
          const a = normalizeTitle(index, title);
          const b = normalizeTitle(index, `  ${cased}. `);
          return a.titleId === b.titleId && a.normalizedTitle === b.normalizedTitle;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is idempotent on its own output', () => {
    const inputs = fc.oneof(
      decorated,
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
    );
    fc.assert(
      fc.property(inputs, (input) => {
        const once = normalizeTitle(index, input);
        const twice = normalizeTitle(index, once.normalizedTitle);
        return twice.normalizedTitle === once.normalizedTitle && twice.titleId === once.titleId;
      }),
      { numRuns: 300 },
    );
  });

  it('never throws and keeps the confidence in [0, 1]', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (input) => {
        const m = normalizeTitle(index, input);
        return m.confidence >= 0 && m.confidence <= 1 && (m.known ? m.titleId !== null : m.confidence === 0);
      }),
      { numRuns: 300 },
    );
  });

  it('matches every canonical name exactly with confidence 1', () => {
    for (const t of index.taxonomy.titles) {
      const m = normalizeTitle(index, t.name);
      expect([t.id, m.matchType, m.confidence]).toEqual([m.titleId, 'exact', 1]);
    }
  });
});
