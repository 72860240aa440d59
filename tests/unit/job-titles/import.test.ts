import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';
import { parseTaxonomyImport, taxonomyToCsv, CSV_COLUMNS } from '../../../shared/domain/job-titles/taxonomy';

const HEADER = CSV_COLUMNS.join(',');

function csv(...rows: string[]): string {
  return [HEADER, ...rows].join('\n');
}

describe('CSV import', () => {
  it('imports valid rows, derives families and edges', () => {
    const result = parseTaxonomyImport(
      csv(
        'dev,Developer,eng,Engineering,mid,15-1252,coder;programmer,DEV,typescript;testing,lead,lead:2-4,',
        'lead,Lead Developer,eng,,lead,,,,"leadership;""quoted"" skill",dev,,',
      ),
      'csv',
    );
    expect(result.rows).toEqual([
      { row: 2, section: 'titles', id: 'dev', ok: true, errors: [] },
      { row: 3, section: 'titles', id: 'lead', ok: true, errors: [] },
    ]);
    expect(result.taxonomy?.families).toEqual([{ id: 'eng', name: 'Engineering' }]);
    expect(result.taxonomy?.titles[1]?.skills).toEqual(['leadership', '"quoted" skill']);
    expect(result.taxonomy?.progression).toEqual([
      { from: 'dev', to: 'lead', kind: 'promotion', typicalYears: { min: 2, max: 4 } },
    ]);
    expect(result.summary).toEqual({ rows: 2, ok: 2, failed: 0, families: 1, titles: 2, edges: 1 });
  });

  it('reports bad rows by spreadsheet row number and returns no taxonomy', () => {
    const result = parseTaxonomyImport(
      csv(
        'ok-title,OK Title,fam,,mid,,,,,,,',
        'Bad Id,Bad,fam,,mid,,,,,,,', // row 3: id not kebab-case
        'no-seniority,No Seniority,fam,,wizard,,,,,,,', // row 4: bad seniority
        'dangling,Dangling,fam,,mid,,,,,ghost,,', // row 5: related id does not exist
        'bad-edge,Bad Edge,fam,,mid,,,,,,ok-title,', // row 6: next without years
        'dup,OK Title,fam,,mid,,,,,,,', // row 7: name collides with row 2
        'short,Short', // row 8: too few cells
      ),
      'csv',
    );
    expect(result.taxonomy).toBeUndefined();
    const failed = Object.fromEntries(
      result.rows.filter((r) => !r.ok).map((r) => [r.row, r.errors.join(' | ')]),
    );
    expect(Object.keys(failed).map(Number)).toEqual([3, 4, 6, 8]);
    expect(failed[3]).toMatch(/id: must be lower-case kebab-case/);
    expect(failed[4]).toMatch(/seniority/);
    expect(failed[6]).toMatch(/next: "ok-title" must look like target-id:minYears-maxYears/);
    expect(failed[8]).toMatch(/expected 12 cells, found 2/);
    expect(result.rows.find((r) => r.row === 2)?.ok).toBe(true);
  });

  it('reports cross-row problems (unknown related id, name collision) on the offending row', () => {
    const result = parseTaxonomyImport(
      csv(
        'ok-title,OK Title,fam,,mid,,,,,,,',
        'dangling,Dangling,fam,,mid,,,,,ghost,,',
        'dup,OK Title,fam,,mid,,,,,,,',
      ),
      'csv',
    );
    expect(result.taxonomy).toBeUndefined();
    expect(result.rows.map((r) => [r.row, r.ok])).toEqual([
      [2, true],
      [3, false],
      [4, false],
    ]);
    expect(result.rows[1]?.errors).toEqual(['related title "ghost" does not exist']);
    expect(result.rows[2]?.errors[0]).toMatch(/already used by title "ok-title"/);
  });

  it('rejects a bad header, an empty file and malformed quoting', () => {
    expect(parseTaxonomyImport('id,name,colour\n', 'csv').rows[0]?.errors).toEqual([
      'unknown column "colour"',
      'missing required column "family"',
      'missing required column "seniority"',
    ]);
    expect(parseTaxonomyImport('', 'csv').rows[0]?.errors[0]).toMatch(/header row is required/);
    expect(parseTaxonomyImport(`${HEADER}\n`, 'csv').rows[0]?.errors[0]).toMatch(/no title rows/);
    const broken = parseTaxonomyImport(csv('a,"unterminated,fam,,mid,,,,,,,'), 'csv');
    expect(broken.rows[0]?.ok).toBe(false);
    expect(broken.rows[0]?.errors[0]).toMatch(/invalid CSV/);
  });

  it('round-trips the built-in taxonomy through CSV', () => {
    const { taxonomy } = fileBuiltInTaxonomy();
    const result = parseTaxonomyImport(taxonomyToCsv(taxonomy), 'csv');
    expect(result.summary.failed).toBe(0);
    expect(result.taxonomy?.titles).toEqual(taxonomy.titles);
    expect(result.taxonomy?.families.map((f) => [f.id, f.name])).toEqual(
      taxonomy.families.map((f) => [f.id, f.name]),
    );
    const key = (e: { from: string; to: string }): string => `${e.from}>${e.to}`;
    expect(result.taxonomy?.progression.map(key).sort()).toEqual(taxonomy.progression.map(key).sort());
  });
});

describe('JSON import', () => {
  const family = { id: 'fam', name: 'Family' };
  const title = (id: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id,
    name,
    family: 'fam',
    seniority: 'mid',
    ...extra,
  });
  const doc = (body: Record<string, unknown>): string =>
    JSON.stringify({ schemaVersion: 1, name: 'Import', version: '2', families: [family], ...body });

  it('imports a valid document', () => {
    const result = parseTaxonomyImport(
      doc({
        titles: [title('a', 'Alpha', { related: ['b'] }), title('b', 'Beta')],
        progression: [{ from: 'a', to: 'b', kind: 'lateral', typicalYears: { min: 1, max: 3 } }],
      }),
      'json',
    );
    expect(result.rows.every((r) => r.ok)).toBe(true);
    expect(result.taxonomy?.titles.map((t) => t.id)).toEqual(['a', 'b']);
    expect(result.taxonomy?.titles[1]?.aliases).toEqual([]);
  });

  it('reports each bad record by section and 1-based row', () => {
    const result = parseTaxonomyImport(
      doc({
        titles: [
          title('a', 'Alpha'),
          title('b', 'Beta', { seniority: 'boss' }),
          title('c', '', { salary: 100000 }),
        ],
        progression: [{ from: 'a', to: 'b', kind: 'promotion', typicalYears: { min: 5, max: 2 } }],
      }),
      'json',
    );
    expect(result.taxonomy).toBeUndefined();
    const failed = result.rows
      .filter((r) => !r.ok)
      .map((r) => `${r.section}:${r.row}:${r.errors.join(' | ')}`);
    expect(failed).toHaveLength(3);
    expect(failed[0]).toMatch(/^titles:2:seniority: /);
    expect(failed[1]).toMatch(/^titles:3:.*name: must not be empty/);
    expect(failed[1]).toMatch(/salary/);
    expect(failed[2]).toMatch(/^progression:1:typicalYears\.max: min must not exceed max/);
  });

  it('reports references that do not resolve on the right row', () => {
    const result = parseTaxonomyImport(
      doc({
        titles: [title('a', 'Alpha'), title('a', 'Alpha Two')],
        progression: [{ from: 'a', to: 'ghost', kind: 'promotion', typicalYears: { min: 1, max: 2 } }],
      }),
      'json',
    );
    expect(result.rows.filter((r) => !r.ok).map((r) => [r.section, r.row, r.errors])).toEqual([
      ['titles', 2, ['duplicate title id "a"']],
      ['progression', 1, ['to title "ghost" does not exist']],
    ]);
  });

  it('reports invalid JSON and a wrong document shape as row 0', () => {
    expect(parseTaxonomyImport('{not json', 'json').rows[0]).toMatchObject({
      row: 0,
      section: 'document',
      ok: false,
    });
    const shape = parseTaxonomyImport(
      JSON.stringify({ schemaVersion: 1, name: 'x', version: '1', titles: 'nope' }),
      'json',
    );
    expect(shape.rows[0]?.errors).toEqual(
      expect.arrayContaining(['"families" must be an array', '"titles" must be an array']),
    );
  });

  it('accepts the built-in dataset file itself', () => {
    const { taxonomy } = fileBuiltInTaxonomy();
    const result = parseTaxonomyImport(JSON.stringify(taxonomy), 'json');
    expect(result.summary).toMatchObject({ failed: 0, titles: taxonomy.titles.length });
  });
});
