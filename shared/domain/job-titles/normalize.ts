/**
 * Job-title normalisation: free text ("Sr. SWE II (Remote)") → a taxonomy title with a confidence.
 *
 * Pipeline (the same text functions also build the taxonomy index keys, so both sides agree):
 *  1. cleanTitleText: Unicode NFKD, strip accents, lower-case, dotted acronyms ("I.T." → "it"),
 *     gender markers ("(m/w/d)"), apostrophes dropped, "&" → "and", every other punctuation → space.
 *     "+" and "#" survive inside words (c++, c#).
 *  2. expandTokens: British → US spellings, abbreviation expansion (sr, jr, mgr, vp, eng, dev, …),
 *     with a few context rules (eng → engineer / engineering, dev → developer / development, …).
 *  3. Variants of the input are tried in order: the whole text, without parentheses, a
 *     "Manager, Product" comma inversion, then each segment split at " - ", "|", ",", " at " …
 *  4. Each variant is looked up exactly (name/alias key, key without spaces, key without stop
 *     words, key with sorted words, title abbreviation). Failing that, seniority words at either end
 *     ("senior", "jr", "staff", "II", "3", "intern" …) and noise words ("remote", "contract" …) are
 *     stripped and the base is looked up; the seniority is re-applied (a ladder title such as
 *     "Senior Software Engineer" when the taxonomy has one, otherwise base title + seniority).
 *  5. No exact hit: fuzzy token matching (Levenshtein per token, soft Dice over weighted tokens).
 *     A score ≥ FUZZY_THRESHOLD is returned as the nearest match with its confidence; below it the
 *     result is an honest "unknown" that still lists the nearest suggestions.
 */
import { distance } from 'fastest-levenshtein';
import { runToEnd } from '../steps';
import type { JobTitle, Seniority } from './taxonomy-schema';
import { SENIORITY_RANK } from './taxonomy-schema';

// ---------------------------------------------------------------------------------------------
// Text cleaning
// ---------------------------------------------------------------------------------------------

const GENDER_MARKER = /\(?\b[mwfdx]\s*\/\s*[mwfdx]\s*\/\s*[mwfdxi]\b\)?/g;
const DOTTED_ACRONYM = /\b(?:[a-z]\.){2,}/g;

/** Lower-cases and strips punctuation; see the module comment. Idempotent. */
export function cleanTitleText(raw: string): string {
  let s = raw.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  s = s.toLowerCase();
  s = s.replace(GENDER_MARKER, ' ');
  s = s.replace(DOTTED_ACRONYM, (m) => m.replace(/\./g, ''));
  s = s.replace(/['’‘`´]/g, '');
  s = s.replace(/&/g, ' and ');
  // Keep + and # only when attached to a letter/digit on the left (c++, c#, f#).
  s = s.replace(/[^a-z0-9+#]+/g, ' ');
  s = s.replace(/(^|\s)[+#]+/g, ' ');
  return s.replace(/\s+/g, ' ').trim();
}

export function tokenize(cleaned: string): string[] {
  return cleaned.split(' ').filter((t) => t.length > 0);
}

function mapOf<V = string>(record: Record<string, V>): ReadonlyMap<string, V> {
  return new Map(Object.entries(record));
}

const SPELLING: ReadonlyMap<string, string> = mapOf({
  centre: 'center',
  programme: 'program',
  programmes: 'programs',
  organisation: 'organization',
  organisational: 'organizational',
  labour: 'labor',
  behaviour: 'behavior',
  behavioural: 'behavioral',
  defence: 'defense',
  analyse: 'analyze',
  optimisation: 'optimization',
  colour: 'color',
  counsellor: 'counselor',
  counselling: 'counseling',
  modeller: 'modeler',
  principle: 'principal',
  orthopaedic: 'orthopedic',
  paediatric: 'pediatric',
  anaesthetist: 'anesthetist',
  localisation: 'localization',
  enrolment: 'enrollment',
  cheque: 'check',
  catalogue: 'catalog',
  licence: 'license',
  practise: 'practice',
});

/** Unconditional one-token expansions (abbreviations that mean one thing in a job title). */
const EXPANSIONS: ReadonlyMap<string, string> = mapOf({
  sr: 'senior',
  snr: 'senior',
  jr: 'junior',
  jnr: 'junior',
  mgr: 'manager',
  mngr: 'manager',
  mgmt: 'management',
  dir: 'director',
  vp: 'vice president',
  svp: 'senior vice president',
  evp: 'executive vice president',
  avp: 'assistant vice president',
  asst: 'assistant',
  assoc: 'associate',
  exec: 'executive',
  coord: 'coordinator',
  spec: 'specialist',
  rep: 'representative',
  engr: 'engineer',
  swe: 'software engineer',
  sde: 'software development engineer',
  qa: 'quality assurance',
  qc: 'quality control',
  ux: 'user experience',
  ui: 'user interface',
  hr: 'human resources',
  it: 'information technology',
  ml: 'machine learning',
  ai: 'artificial intelligence',
  bi: 'business intelligence',
  pr: 'public relations',
  comms: 'communications',
  mktg: 'marketing',
  mkt: 'marketing',
  biz: 'business',
  ops: 'operations',
  sys: 'systems',
  sw: 'software',
  hw: 'hardware',
  intl: 'international',
  natl: 'national',
  govt: 'government',
  dept: 'department',
  svc: 'service',
  svcs: 'services',
  cust: 'customer',
  mech: 'mechanical',
  gm: 'general manager',
  infosec: 'information security',
  elec: 'electrical',
  fullstack: 'full stack',
  frontend: 'front end',
  backend: 'back end',
});

/** Two-token forms joined into one before expansion ("dev ops" → "devops"). */
const JOINS: ReadonlyMap<string, string> = mapOf({
  'dev ops': 'devops',
  'sec ops': 'secops',
  'ml ops': 'mlops',
  'fin ops': 'finops',
  'biz ops': 'bizops',
  'rev ops': 'revops',
  'dev sec': 'devsec',
  'devsec ops': 'devsecops',
  'e commerce': 'ecommerce',
  'e learning': 'elearning',
  'co founder': 'cofounder',
  'post doc': 'postdoc',
  'web master': 'webmaster',
});

const ENG_ENGINEERING_NEXT = new Set([
  'manager',
  'mgr',
  'director',
  'dir',
  'lead',
  'team',
  'vp',
  'head',
  'management',
  'leader',
  'operations',
  'ops',
  'org',
  'program',
]);
const ENG_ENGINEERING_PREV = new Set(['of', 'vp', 'president', 'director', 'dir', 'head', 'svp', 'evp']);
const DEV_DEVELOPMENT_NEXT = new Set([
  'manager',
  'mgr',
  'director',
  'dir',
  'representative',
  'rep',
  'executive',
  'exec',
  'associate',
  'lead',
  'team',
  'officer',
  'specialist',
  'coordinator',
]);
const DEV_DEVELOPMENT_PREV = new Set(['business', 'biz', 'product', 'organizational', 'software', 'talent']);
const ADMIN_ADMINISTRATIVE_NEXT = new Set([
  'assistant',
  'asst',
  'officer',
  'coordinator',
  'support',
  'clerk',
  'specialist',
  'manager',
  'mgr',
  'supervisor',
  'secretary',
  'associate',
  'executive',
  'services',
  'team',
]);
const TECH_TECHNICAL_NEXT = new Set([
  'lead',
  'support',
  'writer',
  'director',
  'architect',
  'recruiter',
  'sales',
  'account',
  'consultant',
  'specialist',
  'program',
  'product',
  'trainer',
  'analyst',
]);
const ACCT_ACCOUNT_NEXT = new Set([
  'manager',
  'mgr',
  'executive',
  'exec',
  'director',
  'representative',
  'rep',
  'coordinator',
  'management',
]);
const PROD_PRODUCT_NEXT = new Set(['manager', 'mgr', 'designer', 'owner', 'marketing', 'analyst', 'lead']);

/**
 * Expands abbreviations and normalises spellings. Idempotent: no expansion produces a token that
 * is itself expanded again.
 */
export function expandTokens(tokens: readonly string[]): string[] {
  // 1. joins
  const joined: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    const pair = next === undefined ? undefined : JOINS.get(`${t} ${next}`);
    if (pair !== undefined) {
      joined.push(pair);
      i++;
    } else {
      joined.push(t);
    }
  }
  // A second pass catches three-token joins ("dev sec ops" → "devsec ops" → "devsecops").
  const rejoined: string[] = [];
  for (let i = 0; i < joined.length; i++) {
    const t = joined[i] as string;
    const next = joined[i + 1];
    const pair = next === undefined ? undefined : JOINS.get(`${t} ${next}`);
    if (pair !== undefined) {
      rejoined.push(pair);
      i++;
    } else {
      rejoined.push(t);
    }
  }
  // 2. spelling + expansions with context rules
  const out: string[] = [];
  for (let i = 0; i < rejoined.length; i++) {
    const raw = rejoined[i] as string;
    const t = SPELLING.get(raw) ?? raw;
    const prev = i > 0 ? rejoined[i - 1] : undefined;
    const next = rejoined[i + 1];
    let replacement: string;
    switch (t) {
      case 'eng':
        replacement =
          (next !== undefined && ENG_ENGINEERING_NEXT.has(next)) ||
          (prev !== undefined && ENG_ENGINEERING_PREV.has(prev))
            ? 'engineering'
            : 'engineer';
        break;
      case 'dev':
        replacement =
          (next !== undefined && DEV_DEVELOPMENT_NEXT.has(next)) ||
          (prev !== undefined && DEV_DEVELOPMENT_PREV.has(prev) && next !== undefined)
            ? 'development'
            : 'developer';
        break;
      case 'admin':
        replacement =
          next !== undefined && ADMIN_ADMINISTRATIVE_NEXT.has(next) ? 'administrative' : 'administrator';
        break;
      case 'tech':
        replacement = next !== undefined && TECH_TECHNICAL_NEXT.has(next) ? 'technical' : 'technician';
        break;
      case 'acct':
        replacement = next !== undefined && ACCT_ACCOUNT_NEXT.has(next) ? 'account' : 'accountant';
        break;
      case 'prod':
        replacement = next !== undefined && PROD_PRODUCT_NEXT.has(next) ? 'product' : 'production';
        break;
      default:
        replacement = EXPANSIONS.get(t) ?? t;
    }
    for (const part of replacement.split(' ')) out.push(part);
  }
  return out;
}

/** clean + expand, joined with single spaces: the key used by the taxonomy index. */
export function normalizeTitleText(raw: string): string {
  return expandTokens(tokenize(cleanTitleText(raw))).join(' ');
}

export const STOP_WORDS: ReadonlySet<string> = new Set([
  'of',
  'and',
  'the',
  'for',
  'to',
  'in',
  'a',
  'an',
  'with',
  'at',
  'on',
]);

/** Key without spaces ("front end developer" → "frontenddeveloper"). */
export function compactKey(tokens: readonly string[]): string {
  return tokens.join('');
}

/** Key without stop words ("director of engineering" → "director engineering"). */
export function stoplessKey(tokens: readonly string[]): string {
  return tokens.filter((t) => !STOP_WORDS.has(t)).join(' ');
}

/** Key with stop words removed and words sorted ("engineering director" ≡ "director of engineering"). */
export function sortedKey(tokens: readonly string[]): string {
  return tokens
    .filter((t) => !STOP_WORDS.has(t))
    .slice()
    .sort()
    .join(' ');
}

const LOWER_WORDS = new Set(['of', 'and', 'the', 'for', 'to', 'in', 'a', 'an', 'at', 'with', 'on']);

/** "senior data engineer" → "Senior Data Engineer" (stop words stay lower-case except first). */
export function titleCase(text: string): string {
  return text
    .split(' ')
    .filter((w) => w.length > 0)
    .map((w, i) => (i > 0 && LOWER_WORDS.has(w) ? w : w.charAt(0).toUpperCase() + w.slice(1)))
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// Seniority and noise words
// ---------------------------------------------------------------------------------------------

/** Seniority words recognised at either end of a title (after expansion). */
const SENIORITY_WORDS: ReadonlyArray<{ words: readonly string[]; level: Seniority }> = [
  { words: ['entry', 'level'], level: 'entry' },
  { words: ['mid', 'level'], level: 'mid' },
  { words: ['senior', 'staff'], level: 'lead' },
  { words: ['intern'], level: 'intern' },
  { words: ['internship'], level: 'intern' },
  { words: ['trainee'], level: 'intern' },
  { words: ['apprentice'], level: 'intern' },
  { words: ['junior'], level: 'entry' },
  { words: ['graduate'], level: 'entry' },
  { words: ['associate'], level: 'entry' },
  { words: ['entry'], level: 'entry' },
  { words: ['mid'], level: 'mid' },
  { words: ['intermediate'], level: 'mid' },
  { words: ['senior'], level: 'senior' },
  { words: ['lead'], level: 'lead' },
  { words: ['staff'], level: 'lead' },
  { words: ['principal'], level: 'principal' },
  { words: ['distinguished'], level: 'principal' },
];

/** Level markers accepted only at the end ("Software Engineer II", "Analyst 3"). */
const LEVEL_SUFFIX: ReadonlyMap<string, Seniority> = mapOf<Seniority>({
  i: 'entry',
  ii: 'mid',
  iii: 'senior',
  iv: 'lead',
  v: 'principal',
  '1': 'entry',
  '2': 'mid',
  '3': 'senior',
  '4': 'lead',
  '5': 'principal',
  l1: 'entry',
  l2: 'entry',
  l3: 'mid',
  l4: 'senior',
  l5: 'senior',
  l6: 'lead',
  l7: 'principal',
});

/** Words that say nothing about the role; removed at either end. */
const NOISE_WORDS: ReadonlyArray<readonly string[]> = [
  ['full', 'time'],
  ['part', 'time'],
  ['work', 'from', 'home'],
  ['on', 'site'],
  ['remote'],
  ['hybrid'],
  ['onsite'],
  ['fulltime'],
  ['parttime'],
  ['contract'],
  ['contractor'],
  ['temporary'],
  ['temp'],
  ['permanent'],
  ['freelance'],
  ['urgent'],
  ['w2'],
  ['1099'],
  ['wfh'],
  ['job'],
  ['position'],
  ['role'],
  ['opening'],
  ['vacancy'],
  ['new'],
  ['needed'],
  ['wanted'],
  ['hiring'],
];

/** Canonical word used to display / recompose a seniority level with a base title. */
const LEVEL_PREFIX: Readonly<Partial<Record<Seniority, readonly string[]>>> = {
  entry: ['junior', 'associate', 'entry level', 'graduate'],
  senior: ['senior'],
  lead: ['lead', 'staff'],
  principal: ['principal'],
};

function startsWith(tokens: readonly string[], words: readonly string[], at: number): boolean {
  if (at + words.length > tokens.length) return false;
  return words.every((w, i) => tokens[at + i] === w);
}

export interface SeniorityExtraction {
  /** Tokens left after removing seniority and noise words at either end. */
  base: string[];
  /** Highest seniority level found, or null. */
  seniority: Seniority | null;
  /** Seniority words as found, in order (e.g. ["senior"], ["iii"]). */
  modifiers: string[];
  /** Noise words removed. */
  noise: string[];
}

/**
 * Removes seniority words and noise words from both ends of an expanded token list. Stops before
 * the list would become empty, so "Principal" alone stays "principal".
 */
export function extractSeniority(
  tokens: readonly string[],
  options: { seniority?: boolean; noise?: boolean } = {},
): SeniorityExtraction {
  const stripSeniority = options.seniority ?? true;
  const stripNoise = options.noise ?? true;
  let start = 0;
  let end = tokens.length; // exclusive
  const modifiers: string[] = [];
  const noise: string[] = [];
  let seniority: Seniority | null = null;
  const take = (level: Seniority, words: readonly string[]): void => {
    modifiers.push(words.join(' '));
    if (seniority === null || SENIORITY_RANK[level] > SENIORITY_RANK[seniority]) seniority = level;
  };
  let changed = true;
  while (changed && end - start > 1) {
    changed = false;
    for (const n of stripNoise ? NOISE_WORDS : []) {
      if (end - start > n.length && startsWith(tokens, n, start)) {
        noise.push(n.join(' '));
        start += n.length;
        changed = true;
        break;
      }
      if (end - start > n.length && startsWith(tokens, n, end - n.length)) {
        noise.push(n.join(' '));
        end -= n.length;
        changed = true;
        break;
      }
    }
    if (changed || !stripSeniority) continue;
    for (const s of SENIORITY_WORDS) {
      if (end - start > s.words.length && startsWith(tokens, s.words, start)) {
        take(s.level, s.words);
        start += s.words.length;
        changed = true;
        break;
      }
      if (end - start > s.words.length && startsWith(tokens, s.words, end - s.words.length)) {
        take(s.level, s.words);
        end -= s.words.length;
        changed = true;
        break;
      }
    }
    if (changed) continue;
    const last = tokens[end - 1];
    const lastLevel = last === undefined ? undefined : LEVEL_SUFFIX.get(last);
    if (last !== undefined && lastLevel !== undefined && end - start > 1) {
      take(lastLevel, [last]);
      end -= 1;
      changed = true;
      continue;
    }
    // "level 2", "grade 3"
    const before = tokens[end - 2];
    if (
      last !== undefined &&
      before !== undefined &&
      (before === 'level' || before === 'grade') &&
      end - start > 2 &&
      lastLevel !== undefined
    ) {
      take(lastLevel, [before, last]);
      end -= 2;
      changed = true;
    }
  }
  return { base: tokens.slice(start, end), seniority, modifiers, noise };
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/** The lookup structures normalisation needs (built by buildTaxonomyIndex in taxonomy.ts). */
export interface TitleLookup {
  readonly titles: ReadonlyMap<string, JobTitle>;
  /** normalised name/alias → entry */
  readonly keys: ReadonlyMap<string, { titleId: string; kind: 'name' | 'alias' }>;
  /** key with spaces removed → title id (only unambiguous keys) */
  readonly compactKeys: ReadonlyMap<string, string>;
  /** key with stop words removed → title id (only unambiguous keys) */
  readonly stoplessKeys: ReadonlyMap<string, string>;
  /** stop words removed and words sorted → title id (only unambiguous keys) */
  readonly sortedKeys: ReadonlyMap<string, string>;
  /** normalised abbreviation → title ids, in dataset order */
  readonly abbreviations: ReadonlyMap<string, readonly string[]>;
  /** every normalised name/alias with its tokens, for fuzzy matching */
  readonly fuzzyEntries: ReadonlyArray<{ readonly tokens: readonly string[]; readonly titleId: string }>;
  /** token → indexes into fuzzyEntries */
  readonly tokenIndex: ReadonlyMap<string, readonly number[]>;
}

export type MatchType = 'exact' | 'alias' | 'abbreviation' | 'reordered' | 'fuzzy' | 'unknown';

export interface TitleAlternative {
  titleId: string;
  title: string;
  score: number;
}

export interface TitleMatch {
  /** The text as given. */
  input: string;
  /** Cleaned and abbreviation-expanded text of the whole input. */
  normalizedText: string;
  /** True when a taxonomy title was matched (exactly or fuzzily above the threshold). */
  known: boolean;
  matchType: MatchType;
  titleId: string | null;
  /** The taxonomy's canonical name for titleId. */
  canonicalTitle: string | null;
  /**
   * Display form: the canonical title, prefixed with the seniority words the input carried when the
   * taxonomy has no separate title for that level ("Senior Frontend Developer"); for unknown input
   * the title-cased normalised text. Normalising this string again gives the same result.
   */
  normalizedTitle: string;
  family: string | null;
  seniority: Seniority | null;
  /** True when seniority came from words in the input rather than from the matched title. */
  seniorityAdjusted: boolean;
  /** Seniority words found in the input ("senior", "iii", …). */
  modifiers: string[];
  /** 0..1 */
  confidence: number;
  /** Other plausible titles (ambiguous abbreviation, fuzzy runners-up, or suggestions for unknown). */
  alternatives: TitleAlternative[];
}

export interface NormalizeOptions {
  /** Minimum fuzzy score to accept a nearest match (default FUZZY_THRESHOLD). */
  fuzzyThreshold?: number;
  /** How many alternatives to return at most (default 3). */
  maxAlternatives?: number;
}

/** Only the first MAX_TITLE_LENGTH characters of an input are matched (job titles are short). */
export const MAX_TITLE_LENGTH = 200;

/** Minimum fuzzy score (0..1) for a nearest match to count as known. */
export const FUZZY_THRESHOLD = 0.72;

const CONFIDENCE = {
  name: 1,
  alias: 0.97,
  compact: 0.95,
  stopless: 0.95,
  sorted: 0.9,
  abbreviation: 0.93,
  ambiguousAbbreviation: 0.55,
  /** multiplier when only a part of the input (segment, no parentheses) matched */
  variant: 0.95,
  /** multiplier when seniority words were stripped and re-applied via a ladder title */
  recomposed: 0.97,
  /** multiplier when the base title was kept and the seniority adjusted */
  adjusted: 0.93,
  /** multiplier when an abbreviation inside a longer title was spelled out */
  spelledAbbreviation: 0.9,
  /** fuzzy score → confidence */
  fuzzy: 0.9,
} as const;

interface ExactHit {
  titleId: string;
  matchType: Exclude<MatchType, 'fuzzy' | 'unknown'>;
  confidence: number;
  alternatives: string[];
}

function lookupExact(lookup: TitleLookup, tokens: readonly string[], allowReordered = true): ExactHit | null {
  if (tokens.length === 0) return null;
  const key = tokens.join(' ');
  const entry = lookup.keys.get(key);
  if (entry) {
    return {
      titleId: entry.titleId,
      matchType: entry.kind === 'name' ? 'exact' : 'alias',
      confidence: entry.kind === 'name' ? CONFIDENCE.name : CONFIDENCE.alias,
      alternatives: [],
    };
  }
  const compact = lookup.compactKeys.get(compactKey(tokens));
  if (compact !== undefined)
    return { titleId: compact, matchType: 'alias', confidence: CONFIDENCE.compact, alternatives: [] };
  const stopless = lookup.stoplessKeys.get(stoplessKey(tokens));
  if (stopless !== undefined)
    return { titleId: stopless, matchType: 'alias', confidence: CONFIDENCE.stopless, alternatives: [] };
  const abbreviation = lookup.abbreviations.get(key);
  if (abbreviation !== undefined && abbreviation.length > 0) {
    const [first, ...rest] = abbreviation as [string, ...string[]];
    return {
      titleId: first,
      matchType: 'abbreviation',
      confidence: rest.length === 0 ? CONFIDENCE.abbreviation : CONFIDENCE.ambiguousAbbreviation,
      alternatives: rest,
    };
  }
  if (allowReordered && tokens.length > 1) {
    const sorted = lookup.sortedKeys.get(sortedKey(tokens));
    if (sorted !== undefined)
      return { titleId: sorted, matchType: 'reordered', confidence: CONFIDENCE.sorted, alternatives: [] };
  }
  return null;
}

interface Resolved {
  titleId: string;
  matchType: Exclude<MatchType, 'fuzzy' | 'unknown'> | 'fuzzy';
  confidence: number;
  alternatives: string[];
  seniority: Seniority;
  seniorityAdjusted: boolean;
  displayPrefix: string[];
  displaySuffix: string[];
  modifiers: string[];
}

const MANAGEMENT_TRACK: ReadonlySet<Seniority> = new Set<Seniority>([
  'manager',
  'director',
  'vp',
  'executive',
]);

function levelWords(level: Seniority, modifiers: readonly string[]): string[][] {
  const fromInput = modifiers.filter((m) => !LEVEL_SUFFIX.has(m) && !/^(level|grade) /.test(m));
  const candidates: string[][] = [];
  if (fromInput.length > 0) candidates.push(fromInput.flatMap((m) => m.split(' ')));
  for (const w of LEVEL_PREFIX[level] ?? []) candidates.push(w.split(' '));
  return candidates;
}

/**
 * Applies a seniority found in the input to a matched base title: first a ladder title whose key is
 * "<level words> <base>" (or "<base> intern"), otherwise the base title with adjusted seniority.
 */
function applySeniority(
  lookup: TitleLookup,
  base: ExactHit,
  baseTokens: readonly string[],
  extraction: SeniorityExtraction,
): Resolved {
  const baseTitle = lookup.titles.get(base.titleId) as JobTitle;
  const level = extraction.seniority;
  const plain: Resolved = {
    titleId: base.titleId,
    matchType: base.matchType,
    confidence: base.confidence,
    alternatives: base.alternatives,
    seniority: baseTitle.seniority,
    seniorityAdjusted: false,
    displayPrefix: [],
    displaySuffix: [],
    modifiers: extraction.modifiers,
  };
  if (level === null) return plain;
  const baseNameTokens = normalizeTitleText(baseTitle.name).split(' ');
  // Recompose a ladder title, trying the base as typed and the canonical name.
  const bases = [baseTokens, baseNameTokens];
  for (const b of bases) {
    const attempts: string[][] =
      level === 'intern'
        ? [
            [...b, 'intern'],
            ['intern', ...b],
          ]
        : level === 'mid'
          ? [[...b]]
          : levelWords(level, extraction.modifiers).map((w) => [...w, ...b]);
    for (const attempt of attempts) {
      const hit = lookupExact(lookup, attempt);
      if (hit && hit.matchType !== 'abbreviation') {
        const t = lookup.titles.get(hit.titleId) as JobTitle;
        return {
          titleId: hit.titleId,
          matchType: hit.matchType,
          confidence: Math.min(hit.confidence, base.confidence) * CONFIDENCE.recomposed,
          alternatives: base.alternatives,
          seniority: t.seniority,
          seniorityAdjusted: false,
          displayPrefix: [],
          displaySuffix: [],
          modifiers: extraction.modifiers,
        };
      }
    }
  }
  // Keep the base title. Seniority words on a management-track title (Senior Director, Associate
  // Dean) qualify it without moving it to another level.
  const managementTrack = MANAGEMENT_TRACK.has(baseTitle.seniority);
  const words = levelWords(level, extraction.modifiers)[0] ?? [];
  const sameLevel = level === baseTitle.seniority;
  return {
    ...plain,
    confidence: base.confidence * CONFIDENCE.adjusted,
    seniority: managementTrack ? baseTitle.seniority : level,
    seniorityAdjusted: !managementTrack && !sameLevel,
    displayPrefix: sameLevel || level === 'intern' || level === 'mid' ? [] : words,
    displaySuffix: level === 'intern' && baseTitle.seniority !== 'intern' ? ['intern'] : [],
  };
}

function resolveExact(
  lookup: TitleLookup,
  tokens: readonly string[],
  allowReordered: boolean,
): Resolved | null {
  const direct = lookupExact(lookup, tokens, allowReordered);
  if (direct) {
    const t = lookup.titles.get(direct.titleId) as JobTitle;
    return {
      ...direct,
      seniority: t.seniority,
      seniorityAdjusted: false,
      displayPrefix: [],
      displaySuffix: [],
      modifiers: [],
    };
  }
  // Seniority words only, then seniority and noise words, then noise words only: "Senior Contract
  // Manager" must keep "contract", "Remote Senior Engineer" must lose "remote".
  const attempts = [
    extractSeniority(tokens, { noise: false }),
    extractSeniority(tokens),
    extractSeniority(tokens, { seniority: false }),
  ];
  for (const extraction of attempts) {
    if (extraction.base.length === tokens.length || extraction.base.length === 0) continue;
    const base = lookupExact(lookup, extraction.base, allowReordered);
    if (base) return applySeniority(lookup, base, extraction.base, extraction);
  }
  return null;
}

/**
 * A title abbreviation used as one word of a longer title ("Group PM", "Enterprise AE", "ICU RN"):
 * each title the abbreviation stands for is spelled out in its place, in dataset order, and the
 * first spelling that resolves exactly wins.
 */
function resolveWithAbbreviation(lookup: TitleLookup, tokens: readonly string[]): Resolved | null {
  if (tokens.length < 2) return null;
  for (let i = 0; i < tokens.length; i++) {
    const ids = lookup.abbreviations.get(tokens[i] as string);
    if (!ids) continue;
    for (const id of ids) {
      const title = lookup.titles.get(id);
      if (!title) continue;
      const spelled = [
        ...tokens.slice(0, i),
        ...normalizeTitleText(title.name).split(' '),
        ...tokens.slice(i + 1),
      ];
      const resolved = resolveExact(lookup, spelled, true);
      if (resolved) return { ...resolved, confidence: resolved.confidence * CONFIDENCE.spelledAbbreviation };
    }
  }
  return null;
}

/** Input variants, most faithful first. */
function inputVariants(raw: string): string[] {
  const variants: string[] = [raw];
  const noParens = raw.replace(/\([^)]*\)|\[[^\]]*\]|\{[^}]*\}/g, ' ');
  variants.push(noParens);
  const commaParts = noParens.split(',').map((p) => p.trim());
  if (commaParts.length === 2 && commaParts[0] && commaParts[1]) {
    variants.push(`${commaParts[1]} ${commaParts[0]}`);
  }
  const segments = noParens
    .split(/\s[-–—/]\s|\s*[|•·;:@,]\s*|\s[-–—]|[-–—]\s|\s+at\s+/i)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (segments.length > 1) variants.push(...segments);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of variants) {
    const key = normalizeTitleText(v);
    if (key.length > 0 && !seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}

// ---- fuzzy ------------------------------------------------------------------------------------

function tokenWeight(token: string): number {
  return STOP_WORDS.has(token) ? 0.2 : 1;
}

/** 1 − Levenshtein / longer length; short tokens (≤ 3 chars) must match exactly. */
export function tokenSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const longer = Math.max(a.length, b.length);
  if (Math.min(a.length, b.length) <= 3) return 0;
  const sim = 1 - distance(a, b) / longer;
  return sim >= 0.75 ? sim : 0;
}

/**
 * Soft Dice score between query and candidate tokens: each query token is aligned greedily with
 * its most similar unused candidate token (weighted; stop words weigh 0.2). With M the matched
 * weight, score = 0.65·M/|C| + 0.35·M/|Q| + 0.05·(adjacent matched pairs kept in order)/(|C|−1),
 * capped at 1. Candidate coverage weighs more than query coverage, so extra words in the input
 * ("Software Engineer Payments Platform") cost less than missing words.
 */
export function fuzzyScore(query: readonly string[], candidate: readonly string[]): number {
  if (query.length === 0 || candidate.length === 0) return 0;
  const used = new Array<boolean>(candidate.length).fill(false);
  const alignedTo = new Array<number>(query.length).fill(-1);
  let matched = 0;
  for (let qi = 0; qi < query.length; qi++) {
    const q = query[qi] as string;
    let best = 0;
    let bestIndex = -1;
    for (let ci = 0; ci < candidate.length; ci++) {
      if (used[ci]) continue;
      const sim = tokenSimilarity(q, candidate[ci] as string);
      if (sim > best) {
        best = sim;
        bestIndex = ci;
      }
    }
    if (bestIndex >= 0) {
      used[bestIndex] = true;
      alignedTo[qi] = bestIndex;
      matched += best * Math.min(tokenWeight(q), tokenWeight(candidate[bestIndex] as string));
    }
  }
  const qWeight = query.reduce((s, t) => s + tokenWeight(t), 0);
  const cWeight = candidate.reduce((s, t) => s + tokenWeight(t), 0);
  let adjacent = 0;
  for (let qi = 1; qi < query.length; qi++) {
    const a = alignedTo[qi - 1] as number;
    const b = alignedTo[qi] as number;
    if (a >= 0 && b === a + 1) adjacent++;
  }
  const bigramBonus = candidate.length > 1 ? (0.05 * adjacent) / (candidate.length - 1) : 0;
  return Math.min(1, 0.65 * (matched / cWeight) + 0.35 * (matched / qWeight) + bigramBonus);
}

interface FuzzyCandidate {
  titleId: string;
  score: number;
}

/**
 * The fuzzy entries whose tokens resemble a query token: a scan of the whole vocabulary, so it is
 * remembered per taxonomy index (title batches repeat their words). Deterministic: the memo only
 * saves time. Bounded: the memo is dropped when it grows past SIMILAR_TOKEN_MEMO_LIMIT tokens.
 */
const similarTokenMemo = new WeakMap<TitleLookup, Map<string, readonly number[]>>();
const SIMILAR_TOKEN_MEMO_LIMIT = 20_000;

function entriesNear(lookup: TitleLookup, q: string): readonly number[] {
  let memo = similarTokenMemo.get(lookup);
  if (!memo) similarTokenMemo.set(lookup, (memo = new Map()));
  const known = memo.get(q);
  if (known) return known;
  const found: number[] = [];
  for (const [token, indexes] of lookup.tokenIndex) {
    if (tokenSimilarity(q, token) > 0) found.push(...indexes);
  }
  if (memo.size >= SIMILAR_TOKEN_MEMO_LIMIT) memo.clear();
  memo.set(q, found);
  return found;
}

/** Scored fuzzy candidates; one step per query token and per 64 scored entries. */
function* fuzzyCandidates(lookup: TitleLookup, query: readonly string[]): Generator<void, FuzzyCandidate[]> {
  const entryIndexes = new Set<number>();
  for (const q of query) {
    if (STOP_WORDS.has(q)) continue;
    yield;
    for (const i of entriesNear(lookup, q)) entryIndexes.add(i);
  }
  const best = new Map<string, number>();
  let scored = 0;
  for (const i of entryIndexes) {
    if (++scored % 64 === 0) yield;
    const entry = lookup.fuzzyEntries[i];
    if (!entry) continue;
    const score = fuzzyScore(query, entry.tokens);
    if (score > (best.get(entry.titleId) ?? 0)) best.set(entry.titleId, score);
  }
  return [...best.entries()]
    .map(([titleId, score]) => ({ titleId, score }))
    .sort((a, b) => b.score - a.score || (a.titleId < b.titleId ? -1 : a.titleId > b.titleId ? 1 : 0));
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function alternativesOf(
  lookup: TitleLookup,
  ids: readonly string[],
  scores?: ReadonlyMap<string, number>,
): TitleAlternative[] {
  const out: TitleAlternative[] = [];
  for (const id of ids) {
    const t = lookup.titles.get(id);
    if (t) out.push({ titleId: id, title: t.name, score: round(scores?.get(id) ?? 0) });
  }
  return out;
}

function buildMatch(
  lookup: TitleLookup,
  input: string,
  normalizedText: string,
  resolved: Resolved,
  confidence: number,
  alternatives: TitleAlternative[],
): TitleMatch {
  const title = lookup.titles.get(resolved.titleId) as JobTitle;
  const display = [
    ...resolved.displayPrefix.map((w) => titleCase(w)),
    title.name,
    ...resolved.displaySuffix.map((w) => titleCase(w)),
  ].join(' ');
  return {
    input,
    normalizedText,
    known: true,
    matchType: resolved.matchType,
    titleId: title.id,
    canonicalTitle: title.name,
    normalizedTitle: display,
    family: title.family,
    seniority: resolved.seniority,
    seniorityAdjusted: resolved.seniorityAdjusted,
    modifiers: resolved.modifiers,
    confidence: round(Math.max(0, Math.min(1, confidence))),
    alternatives,
  };
}

/**
 * Normalises a free-text job title against the taxonomy. Pure and deterministic.
 */
export function normalizeTitle(
  lookup: TitleLookup,
  input: string,
  options: NormalizeOptions = {},
): TitleMatch {
  return runToEnd(normalizeTitleSteps(lookup, input, options));
}

/** normalizeTitle in steps (see domain/steps.ts): the fuzzy pass pauses between query tokens. */
export function* normalizeTitleSteps(
  lookup: TitleLookup,
  input: string,
  options: NormalizeOptions = {},
): Generator<void, TitleMatch> {
  const threshold = options.fuzzyThreshold ?? FUZZY_THRESHOLD;
  const maxAlternatives = options.maxAlternatives ?? 3;
  const text = input.length > MAX_TITLE_LENGTH ? input.slice(0, MAX_TITLE_LENGTH) : input;
  const normalizedText = normalizeTitleText(text);
  const variants = inputVariants(text);

  const variantTokens = variants.map((v) =>
    normalizeTitleText(v)
      .split(' ')
      .filter((t) => t.length > 0),
  );
  // Exact passes, most faithful first: words in order, then any order, then with an abbreviation
  // inside a longer title spelled out ("Group PM" → "group product manager").
  const passes: Array<(tokens: readonly string[]) => Resolved | null> = [
    (tokens) => resolveExact(lookup, tokens, false),
    (tokens) => resolveExact(lookup, tokens, true),
    (tokens) => resolveWithAbbreviation(lookup, tokens),
  ];
  for (const pass of passes) {
    for (let vi = 0; vi < variantTokens.length; vi++) {
      const resolved = pass(variantTokens[vi] as string[]);
      if (resolved) {
        const confidence = resolved.confidence * (vi <= 1 ? 1 : CONFIDENCE.variant);
        return buildMatch(
          lookup,
          input,
          normalizedText,
          resolved,
          confidence,
          alternativesOf(lookup, resolved.alternatives),
        );
      }
    }
  }

  // Fuzzy: score every variant's base tokens and keep the best candidates.
  const combined = new Map<string, number>();
  let bestExtraction: SeniorityExtraction | null = null;
  let bestScore = -1;
  for (let vi = 0; vi < variantTokens.length; vi++) {
    const tokens = variantTokens[vi] as string[];
    const extraction = extractSeniority(tokens);
    const penalty = vi <= 1 ? 1 : CONFIDENCE.variant;
    for (const c of yield* fuzzyCandidates(lookup, extraction.base)) {
      const score = c.score * penalty;
      if (score > (combined.get(c.titleId) ?? 0)) combined.set(c.titleId, score);
      if (score > bestScore) {
        bestScore = score;
        bestExtraction = extraction;
      }
    }
  }
  const ranked = [...combined.entries()].sort(
    (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
  const top = ranked[0];
  if (top && top[1] >= threshold && bestExtraction) {
    const [titleId, score] = top;
    const base: ExactHit = {
      titleId,
      matchType: 'alias',
      confidence: score * CONFIDENCE.fuzzy,
      alternatives: [],
    };
    const resolved = applySeniority(lookup, base, bestExtraction.base, bestExtraction);
    const runnersUp = ranked.slice(1, 1 + maxAlternatives);
    return buildMatch(
      lookup,
      input,
      normalizedText,
      { ...resolved, matchType: 'fuzzy', titleId: resolved.titleId },
      Math.min(resolved.confidence, score * CONFIDENCE.fuzzy),
      alternativesOf(
        lookup,
        runnersUp.map(([id]) => id),
        new Map(runnersUp),
      ),
    );
  }

  const fullExtraction = extractSeniority(normalizedText.split(' ').filter((t) => t.length > 0));
  const suggestions = ranked.slice(0, maxAlternatives);
  return {
    input,
    normalizedText,
    known: false,
    matchType: 'unknown',
    titleId: null,
    canonicalTitle: null,
    normalizedTitle: titleCase(normalizedText),
    family: null,
    seniority: fullExtraction.seniority,
    seniorityAdjusted: fullExtraction.seniority !== null,
    modifiers: fullExtraction.modifiers,
    confidence: 0,
    alternatives: alternativesOf(
      lookup,
      suggestions.map(([id]) => id),
      new Map(suggestions),
    ),
  };
}
