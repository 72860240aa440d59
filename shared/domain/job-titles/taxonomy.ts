/**
 * The job-title taxonomy in memory: validation, a lookup index built once, and imports of larger
 * taxonomies from JSON or CSV. No I/O: the built-in dataset (data/job-titles/taxonomy.json) is read
 * by a BuiltInTaxonomySource adapter (shared/adapters/reference/taxonomy-file.ts).
 *
 * CSV import format (one title per row, header row required, UTF-8, comma-separated, RFC 4180
 * quoting; list cells use ";" between items):
 *
 *   column         required  content
 *   id             yes       kebab-case title id, unique ("senior-data-engineer")
 *   name           yes       canonical title ("Senior Data Engineer")
 *   family         yes       kebab-case family id; families are created from the ids used
 *   family_name    no        display name of the family (first non-empty value per family wins)
 *   seniority      yes       intern | entry | mid | senior | lead | principal | manager | director | vp | executive
 *   soc            no        SOC 2018 detailed code, e.g. 15-1252
 *   aliases        no        "data pipeline engineer;etl engineer"
 *   abbreviations  no        "SRE;DBA"
 *   skills         no        "sql;python;spark"
 *   related        no        related title ids "data-architect;analytics-engineer"
 *   next           no        promotion edges "lead-data-engineer:2-4;data-architect:3-5" (target:minYears-maxYears)
 *   lateral        no        lateral-move edges, same syntax as next
 *
 * Rows are reported by their spreadsheet row number (the header is row 1, the first title row 2).
 * JSON imports use the taxonomy.json format; rows are numbered from 1 within each section
 * (families, titles, progression), and document-level problems are reported as row 0.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { JSON_TOO_DEEP_MESSAGE, jsonTextTooDeep } from '../json-safety';
import { runToEnd } from '../steps';
import { compactKey, normalizeTitleText, sortedKey, stoplessKey, type TitleLookup } from './normalize';
import {
  SENIORITY_LEVELS,
  formatZodIssues,
  jobFamilySchema,
  jobTitleSchema,
  progressionEdgeSchema,
  taxonomyMetaSchema,
  taxonomySchema,
  type JobFamily,
  type JobTitle,
  type ProgressionEdge,
  type Taxonomy,
} from './taxonomy-schema';

// ---------------------------------------------------------------------------------------------
// Cross-record validation
// ---------------------------------------------------------------------------------------------

export type TaxonomySection = 'document' | 'families' | 'titles' | 'progression';

export interface TaxonomyIssue {
  section: TaxonomySection;
  /** 1-based position in its section (0 for document-level issues). */
  row: number;
  id?: string;
  message: string;
}

function keyOf(text: string): string {
  return normalizeTitleText(text);
}

/**
 * Checks the rules a single record cannot: unique family/title ids, known families, related ids and
 * edge endpoints that exist, no self-references, no duplicate edges, and no two titles whose names or
 * aliases normalise to the same key.
 */
export function validateTaxonomy(taxonomy: Taxonomy): TaxonomyIssue[] {
  const issues: TaxonomyIssue[] = [];
  const familyIds = new Set<string>();
  taxonomy.families.forEach((f, i) => {
    if (familyIds.has(f.id))
      issues.push({ section: 'families', row: i + 1, id: f.id, message: `duplicate family id "${f.id}"` });
    familyIds.add(f.id);
  });
  const titleIds = new Set<string>();
  taxonomy.titles.forEach((t, i) => {
    if (titleIds.has(t.id))
      issues.push({ section: 'titles', row: i + 1, id: t.id, message: `duplicate title id "${t.id}"` });
    titleIds.add(t.id);
  });
  const owner = new Map<string, string>();
  taxonomy.titles.forEach((t, i) => {
    const row = i + 1;
    if (!familyIds.has(t.family))
      issues.push({ section: 'titles', row, id: t.id, message: `unknown family "${t.family}"` });
    for (const r of t.related) {
      if (r === t.id)
        issues.push({ section: 'titles', row, id: t.id, message: 'related lists the title itself' });
      else if (!titleIds.has(r))
        issues.push({ section: 'titles', row, id: t.id, message: `related title "${r}" does not exist` });
    }
    for (const text of [t.name, ...t.aliases]) {
      const key = keyOf(text);
      if (key.length === 0) {
        issues.push({ section: 'titles', row, id: t.id, message: `"${text}" is empty after normalisation` });
        continue;
      }
      const other = owner.get(key);
      if (other !== undefined && other !== t.id) {
        issues.push({
          section: 'titles',
          row,
          id: t.id,
          message: `"${text}" normalises to "${key}", already used by title "${other}"`,
        });
      } else {
        owner.set(key, t.id);
      }
    }
    for (const a of t.abbreviations) {
      if (keyOf(a).length === 0)
        issues.push({
          section: 'titles',
          row,
          id: t.id,
          message: `abbreviation "${a}" is empty after normalisation`,
        });
    }
  });
  const edges = new Set<string>();
  taxonomy.progression.forEach((e, i) => {
    const row = i + 1;
    const id = `${e.from}->${e.to}`;
    if (!titleIds.has(e.from))
      issues.push({ section: 'progression', row, id, message: `from title "${e.from}" does not exist` });
    if (!titleIds.has(e.to))
      issues.push({ section: 'progression', row, id, message: `to title "${e.to}" does not exist` });
    if (e.from === e.to)
      issues.push({ section: 'progression', row, id, message: 'edge goes from a title to itself' });
    const key = `${e.from}|${e.to}`;
    if (edges.has(key))
      issues.push({ section: 'progression', row, id, message: `duplicate edge ${e.from} -> ${e.to}` });
    edges.add(key);
  });
  return issues;
}

export class TaxonomyValidationError extends Error {
  constructor(readonly issues: readonly TaxonomyIssue[]) {
    super(
      `invalid taxonomy: ${issues
        .slice(0, 5)
        .map((i) => `${i.section}[${i.row}]${i.id ? ` ${i.id}` : ''}: ${i.message}`)
        .join('; ')}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ''}`,
    );
    this.name = 'TaxonomyValidationError';
  }
}

// ---------------------------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------------------------

export interface TaxonomyIndex extends TitleLookup {
  readonly taxonomy: Taxonomy;
  readonly families: ReadonlyMap<string, JobFamily>;
  readonly titlesByFamily: ReadonlyMap<string, readonly JobTitle[]>;
  /** edges leaving a title (promotion and lateral), in dataset order */
  readonly outgoing: ReadonlyMap<string, readonly ProgressionEdge[]>;
  /** edges arriving at a title, in dataset order */
  readonly incoming: ReadonlyMap<string, readonly ProgressionEdge[]>;
  readonly stats: { readonly families: number; readonly titles: number; readonly edges: number };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Adds key → id unless another id already claimed it; ambiguous keys are dropped. */
function addUnambiguous(map: Map<string, string>, ambiguous: Set<string>, key: string, id: string): void {
  if (key.length === 0 || ambiguous.has(key)) return;
  const existing = map.get(key);
  if (existing === undefined) map.set(key, id);
  else if (existing !== id) {
    map.delete(key);
    ambiguous.add(key);
  }
}

/**
 * Builds the lookup index. The taxonomy must already satisfy `taxonomySchema`; cross-record rules
 * are checked here and a TaxonomyValidationError lists every problem.
 */
export function buildTaxonomyIndex(taxonomy: Taxonomy): TaxonomyIndex {
  const issues = validateTaxonomy(taxonomy);
  if (issues.length > 0) throw new TaxonomyValidationError(issues);
  return runToEnd(indexTaxonomySteps(taxonomy));
}

/**
 * The index of a taxonomy already validated (by buildTaxonomyIndex, or by an import checked
 * elsewhere), built one title per step: a caller can pause between steps so that indexing a large
 * taxonomy never holds the event loop (see services/cooperative.ts); runToEnd runs it in one go.
 */
export function* indexTaxonomySteps(taxonomy: Taxonomy): Generator<void, TaxonomyIndex> {
  const titles = new Map<string, JobTitle>();
  const families = new Map<string, JobFamily>();
  const titlesByFamily = new Map<string, JobTitle[]>();
  for (const f of taxonomy.families) {
    families.set(f.id, f);
    titlesByFamily.set(f.id, []);
  }
  const keys = new Map<string, { titleId: string; kind: 'name' | 'alias' }>();
  const compactKeys = new Map<string, string>();
  const stoplessKeys = new Map<string, string>();
  const sortedKeys = new Map<string, string>();
  const ambiguousCompact = new Set<string>();
  const ambiguousStopless = new Set<string>();
  const ambiguousSorted = new Set<string>();
  const abbreviations = new Map<string, string[]>();
  const fuzzyEntries: Array<{ tokens: string[]; titleId: string }> = [];
  const tokenIndex = new Map<string, number[]>();

  for (const t of taxonomy.titles) {
    yield;
    titles.set(t.id, t);
    pushTo(titlesByFamily, t.family, t);
    const seen = new Set<string>();
    [t.name, ...t.aliases].forEach((text, i) => {
      const key = keyOf(text);
      if (seen.has(key)) return;
      seen.add(key);
      keys.set(key, { titleId: t.id, kind: i === 0 ? 'name' : 'alias' });
      const tokens = key.split(' ');
      addUnambiguous(compactKeys, ambiguousCompact, compactKey(tokens), t.id);
      addUnambiguous(stoplessKeys, ambiguousStopless, stoplessKey(tokens), t.id);
      addUnambiguous(sortedKeys, ambiguousSorted, sortedKey(tokens), t.id);
      const entryIndex = fuzzyEntries.length;
      fuzzyEntries.push({ tokens, titleId: t.id });
      for (const token of new Set(tokens)) pushTo(tokenIndex, token, entryIndex);
    });
    for (const a of t.abbreviations) {
      const key = keyOf(a);
      const list = abbreviations.get(key) ?? [];
      if (!list.includes(t.id)) list.push(t.id);
      abbreviations.set(key, list);
    }
  }
  // A compact/stopless/sorted key equal to an exact key of another title must not shadow it.
  let step = 0;
  for (const [key, entry] of keys) {
    if (++step % 256 === 0) yield;
    const tokens = key.split(' ');
    for (const [map, k] of [
      [compactKeys, compactKey(tokens)],
      [stoplessKeys, stoplessKey(tokens)],
      [sortedKeys, sortedKey(tokens)],
    ] as const) {
      const id = map.get(k);
      if (id !== undefined && id !== entry.titleId) map.delete(k);
    }
  }

  const outgoing = new Map<string, ProgressionEdge[]>();
  const incoming = new Map<string, ProgressionEdge[]>();
  for (const e of taxonomy.progression) {
    pushTo(outgoing, e.from, e);
    pushTo(incoming, e.to, e);
  }

  return {
    taxonomy,
    titles,
    families,
    titlesByFamily,
    keys,
    compactKeys,
    stoplessKeys,
    sortedKeys,
    abbreviations,
    fuzzyEntries,
    tokenIndex,
    outgoing,
    incoming,
    stats: { families: families.size, titles: titles.size, edges: taxonomy.progression.length },
  };
}

/** Parses unknown data with the schema and builds the index; throws with every problem found. */
export function loadTaxonomy(data: unknown): TaxonomyIndex {
  const parsed = taxonomySchema.safeParse(data);
  if (!parsed.success) {
    throw new TaxonomyValidationError(
      formatZodIssues(parsed.error).map((message) => ({ section: 'document' as const, row: 0, message })),
    );
  }
  return buildTaxonomyIndex(parsed.data);
}

// Convenience lookups -------------------------------------------------------------------------

export function getTitle(index: TaxonomyIndex, id: string): JobTitle | undefined {
  return index.titles.get(id);
}

export function listFamilyTitles(index: TaxonomyIndex, familyId: string): readonly JobTitle[] {
  return index.titlesByFamily.get(familyId) ?? [];
}

export function promotionsFrom(index: TaxonomyIndex, id: string): ProgressionEdge[] {
  return (index.outgoing.get(id) ?? []).filter((e) => e.kind === 'promotion');
}

export function lateralMovesFrom(index: TaxonomyIndex, id: string): ProgressionEdge[] {
  return (index.outgoing.get(id) ?? []).filter((e) => e.kind === 'lateral');
}

export function promotionsInto(index: TaxonomyIndex, id: string): ProgressionEdge[] {
  return (index.incoming.get(id) ?? []).filter((e) => e.kind === 'promotion');
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

export interface ImportRowReport {
  /** CSV: spreadsheet row (header = 1). JSON: 1-based position in `section`; 0 = document. */
  row: number;
  section: TaxonomySection;
  /** The record's id when it could be read. */
  id?: string;
  ok: boolean;
  errors: string[];
}

export interface TaxonomyImportResult {
  /** Present only when every row is valid (imports are all-or-nothing). */
  taxonomy?: Taxonomy;
  rows: ImportRowReport[];
  summary: { rows: number; ok: number; failed: number; families: number; titles: number; edges: number };
}

export type TaxonomyImportFormat = 'json' | 'csv';

export const CSV_COLUMNS = [
  'id',
  'name',
  'family',
  'family_name',
  'seniority',
  'soc',
  'aliases',
  'abbreviations',
  'skills',
  'related',
  'next',
  'lateral',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
const REQUIRED_CSV_COLUMNS: readonly CsvColumn[] = ['id', 'name', 'family', 'seniority'];

/**
 * Imports beyond this size are refused outright (413 at the route). 4 MiB holds about 6,500 titles,
 * ten times the curated taxonomy; parsing and validating it takes seconds of CPU, so it runs on a
 * worker thread, and the index is built in steps.
 */
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

function finish(
  rows: ImportRowReport[],
  candidate: Taxonomy | undefined,
  rowOf: (issue: TaxonomyIssue) => ImportRowReport | undefined,
): TaxonomyImportResult {
  if (candidate) {
    for (const issue of validateTaxonomy(candidate)) {
      const report = rowOf(issue);
      if (report) {
        report.ok = false;
        report.errors.push(issue.message);
      } else {
        rows.push({
          row: issue.row,
          section: issue.section,
          id: issue.id,
          ok: false,
          errors: [issue.message],
        });
      }
    }
  }
  const failed = rows.filter((r) => !r.ok).length;
  const result: TaxonomyImportResult = {
    rows,
    summary: {
      rows: rows.length,
      ok: rows.length - failed,
      failed,
      families: candidate?.families.length ?? 0,
      titles: candidate?.titles.length ?? 0,
      edges: candidate?.progression.length ?? 0,
    },
  };
  if (candidate && failed === 0) result.taxonomy = candidate;
  return result;
}

function documentError(message: string): TaxonomyImportResult {
  return {
    rows: [{ row: 0, section: 'document', ok: false, errors: [message] }],
    summary: { rows: 1, ok: 0, failed: 1, families: 0, titles: 0, edges: 0 },
  };
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && 'id' in value) {
    const id = (value as { id: unknown }).id;
    if (typeof id === 'string') return id;
  }
  return undefined;
}

function importJson(text: string): TaxonomyImportResult {
  // Checked on the raw text, before anything recursive walks the document.
  if (jsonTextTooDeep(text)) return documentError(`invalid JSON: ${JSON_TOO_DEEP_MESSAGE}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return documentError(`invalid JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return documentError('expected a JSON object with "families", "titles" and "progression" arrays');
  }
  const doc = data as Record<string, unknown>;
  const rows: ImportRowReport[] = [];
  const documentRow: ImportRowReport = { row: 0, section: 'document', ok: true, errors: [] };
  const { families: rawFamilies, titles: rawTitles, progression: rawProgression, ...meta } = doc;
  const metaResult = taxonomyMetaSchema.safeParse(meta);
  if (!metaResult.success) documentRow.errors.push(...formatZodIssues(metaResult.error));
  const known = new Set(['schemaVersion', 'name', 'version', 'description', 'sources', '$schema']);
  for (const key of Object.keys(meta)) if (!known.has(key)) documentRow.errors.push(`unknown field "${key}"`);
  for (const [name, value, required] of [
    ['families', rawFamilies, true],
    ['titles', rawTitles, true],
    ['progression', rawProgression, false],
  ] as const) {
    if (value === undefined ? required : !Array.isArray(value))
      documentRow.errors.push(`"${name}" must be an array`);
  }
  const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

  const families: JobFamily[] = [];
  const titles: JobTitle[] = [];
  const progression: ProgressionEdge[] = [];
  const sectionRows: Record<'families' | 'titles' | 'progression', ImportRowReport[]> = {
    families: [],
    titles: [],
    progression: [],
  };
  asArray(rawFamilies).forEach((raw, i) => {
    const r = jobFamilySchema.safeParse(raw);
    const report: ImportRowReport = {
      row: i + 1,
      section: 'families',
      id: idOf(raw),
      ok: r.success,
      errors: [],
    };
    if (r.success) families.push(r.data);
    else report.errors.push(...formatZodIssues(r.error));
    sectionRows.families.push(report);
  });
  asArray(rawTitles).forEach((raw, i) => {
    const r = jobTitleSchema.safeParse(raw);
    const report: ImportRowReport = {
      row: i + 1,
      section: 'titles',
      id: idOf(raw),
      ok: r.success,
      errors: [],
    };
    if (r.success) titles.push(r.data);
    else report.errors.push(...formatZodIssues(r.error));
    sectionRows.titles.push(report);
  });
  asArray(rawProgression).forEach((raw, i) => {
    const r = progressionEdgeSchema.safeParse(raw);
    const report: ImportRowReport = { row: i + 1, section: 'progression', ok: r.success, errors: [] };
    if (r.success) {
      progression.push(r.data);
      report.id = `${r.data.from}->${r.data.to}`;
    } else report.errors.push(...formatZodIssues(r.error));
    sectionRows.progression.push(report);
  });
  if (families.length === 0) documentRow.errors.push('at least one valid family is required');
  if (titles.length === 0) documentRow.errors.push('at least one valid title is required');
  documentRow.ok = documentRow.errors.length === 0;
  if (!documentRow.ok) rows.push(documentRow);
  rows.push(...sectionRows.families, ...sectionRows.titles, ...sectionRows.progression);

  const shapeOk = rows.every((r) => r.ok);
  // Cross-record checks run only on a document whose every record parsed: positions then match.
  const candidate: Taxonomy | undefined =
    shapeOk && metaResult.success
      ? {
          schemaVersion: 1,
          name: metaResult.data.name,
          version: metaResult.data.version,
          description: metaResult.data.description,
          sources: metaResult.data.sources,
          families,
          titles,
          progression,
        }
      : undefined;
  return finish(rows, candidate, (issue) =>
    issue.section === 'document' ? undefined : sectionRows[issue.section][issue.row - 1],
  );
}

function splitList(cell: string | undefined): string[] {
  if (cell === undefined) return [];
  return cell
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function titleCaseId(id: string): string {
  return id
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

const EDGE_CELL = /^([a-z0-9]+(?:-[a-z0-9]+)*)\s*:\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$/;

function importCsv(text: string): TaxonomyImportResult {
  let records: string[][];
  try {
    records = parseCsv(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    }) as string[][];
  } catch (error) {
    const e = error as Error & { lines?: number };
    return documentError(`invalid CSV${e.lines !== undefined ? ` near line ${e.lines}` : ''}: ${e.message}`);
  }
  const [header, ...dataRows] = records;
  if (!header) return documentError('empty CSV: a header row is required');
  const headerErrors: string[] = [];
  const columns = header.map((h) => h.trim().toLowerCase());
  const position = new Map<string, number>();
  columns.forEach((c, i) => {
    if (!(CSV_COLUMNS as readonly string[]).includes(c)) headerErrors.push(`unknown column "${c}"`);
    else if (position.has(c)) headerErrors.push(`duplicate column "${c}"`);
    else position.set(c, i);
  });
  for (const c of REQUIRED_CSV_COLUMNS)
    if (!position.has(c)) headerErrors.push(`missing required column "${c}"`);
  if (headerErrors.length > 0) {
    return {
      rows: [{ row: 1, section: 'document', ok: false, errors: headerErrors }],
      summary: { rows: 1, ok: 0, failed: 1, families: 0, titles: 0, edges: 0 },
    };
  }
  const cell = (record: readonly string[], column: CsvColumn): string | undefined => {
    const i = position.get(column);
    if (i === undefined) return undefined;
    const v = record[i];
    return v === undefined || v === '' ? undefined : v;
  };

  const rows: ImportRowReport[] = [];
  const titles: JobTitle[] = [];
  const titleRow = new Map<number, ImportRowReport>(); // index in titles → report
  const edgeRows: ImportRowReport[] = [];
  const progression: ProgressionEdge[] = [];
  const familyNames = new Map<string, string>();
  const familyOrder: string[] = [];

  dataRows.forEach((record, i) => {
    const row = i + 2;
    const report: ImportRowReport = { row, section: 'titles', id: cell(record, 'id'), ok: true, errors: [] };
    rows.push(report);
    if (record.length !== columns.length) {
      report.errors.push(`expected ${columns.length} cells, found ${record.length}`);
    }
    const raw = {
      id: cell(record, 'id'),
      name: cell(record, 'name'),
      family: cell(record, 'family'),
      seniority: cell(record, 'seniority'),
      ...(cell(record, 'soc') !== undefined ? { soc: cell(record, 'soc') } : {}),
      aliases: splitList(cell(record, 'aliases')),
      abbreviations: splitList(cell(record, 'abbreviations')),
      skills: splitList(cell(record, 'skills')),
      related: splitList(cell(record, 'related')),
    };
    const parsed = jobTitleSchema.safeParse(raw);
    if (!parsed.success) {
      report.errors.push(...formatZodIssues(parsed.error));
      if (raw.seniority !== undefined && !(SENIORITY_LEVELS as readonly string[]).includes(raw.seniority)) {
        report.errors.push(`seniority must be one of ${SENIORITY_LEVELS.join(', ')}`);
      }
    }
    const edges: ProgressionEdge[] = [];
    for (const [column, kind] of [
      ['next', 'promotion'],
      ['lateral', 'lateral'],
    ] as const) {
      for (const item of splitList(cell(record, column))) {
        const m = EDGE_CELL.exec(item);
        if (!m) {
          report.errors.push(`${column}: "${item}" must look like target-id:minYears-maxYears`);
          continue;
        }
        const edge = progressionEdgeSchema.safeParse({
          from: raw.id,
          to: m[1],
          kind,
          typicalYears: { min: Number(m[2]), max: Number(m[3]) },
        });
        if (edge.success) edges.push(edge.data);
        else report.errors.push(...formatZodIssues(edge.error).map((e) => `${column} "${item}": ${e}`));
      }
    }
    if (report.errors.length > 0 || !parsed.success) {
      report.ok = false;
      return;
    }
    titleRow.set(titles.length, report);
    titles.push(parsed.data);
    for (const e of edges) {
      edgeRows.push(report);
      progression.push(e);
    }
    if (!familyNames.has(parsed.data.family)) familyOrder.push(parsed.data.family);
    const familyName = cell(record, 'family_name');
    if (familyName !== undefined && !familyNames.get(parsed.data.family))
      familyNames.set(parsed.data.family, familyName);
    else if (!familyNames.has(parsed.data.family)) familyNames.set(parsed.data.family, '');
  });
  if (dataRows.length === 0) return documentError('the CSV has a header but no title rows');

  const families: JobFamily[] = [];
  for (const id of familyOrder) {
    const f = jobFamilySchema.safeParse({ id, name: familyNames.get(id) || titleCaseId(id) });
    if (f.success) families.push(f.data);
  }
  const shapeOk = rows.every((r) => r.ok);
  const candidate: Taxonomy | undefined =
    shapeOk && titles.length > 0
      ? {
          schemaVersion: 1,
          name: 'csv-import',
          version: '1',
          sources: [],
          families,
          titles,
          progression,
        }
      : undefined;
  return finish(rows, candidate, (issue) => {
    if (issue.section === 'titles') return titleRow.get(issue.row - 1);
    if (issue.section === 'progression') return edgeRows[issue.row - 1];
    return undefined;
  });
}

/**
 * Parses and validates a taxonomy import. Every row gets a report; `taxonomy` is set only when all
 * rows are valid. Never throws on bad input.
 */
export function parseTaxonomyImport(text: string, format: TaxonomyImportFormat): TaxonomyImportResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_IMPORT_BYTES) {
    return documentError(`import is larger than ${MAX_IMPORT_BYTES} bytes`);
  }
  return format === 'json' ? importJson(text) : importCsv(text);
}

// ---------------------------------------------------------------------------------------------
// Export (CSV in the import format)
// ---------------------------------------------------------------------------------------------

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

const formatYears = (n: number): string => String(n);

/** Writes a taxonomy as CSV in the import format (round-trips through parseTaxonomyImport). */
export function taxonomyToCsv(taxonomy: Taxonomy): string {
  const familyName = new Map(taxonomy.families.map((f) => [f.id, f.name]));
  const namedFamily = new Set<string>();
  const lines = [CSV_COLUMNS.join(',')];
  for (const t of taxonomy.titles) {
    const out = taxonomy.progression.filter((e) => e.from === t.id);
    const edges = (kind: ProgressionEdge['kind']): string =>
      out
        .filter((e) => e.kind === kind)
        .map((e) => `${e.to}:${formatYears(e.typicalYears.min)}-${formatYears(e.typicalYears.max)}`)
        .join(';');
    const showFamilyName = !namedFamily.has(t.family);
    namedFamily.add(t.family);
    const row: Record<CsvColumn, string> = {
      id: t.id,
      name: t.name,
      family: t.family,
      family_name: showFamilyName ? (familyName.get(t.family) ?? '') : '',
      seniority: t.seniority,
      soc: t.soc ?? '',
      aliases: t.aliases.join(';'),
      abbreviations: t.abbreviations.join(';'),
      skills: t.skills.join(';'),
      related: t.related.join(';'),
      next: edges('promotion'),
      lateral: edges('lateral'),
    };
    lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}
