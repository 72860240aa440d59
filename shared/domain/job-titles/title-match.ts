/**
 * Matching a free-text job title against the taxonomy (steps 3–5 of the pipeline in normalize.ts):
 * input variants, exact lookups under several keys, seniority stripped and re-applied, abbreviations
 * spelled out, then the fuzzy fallback.
 */
import type { JobTitle, Seniority } from './taxonomy-schema';
import { runToEnd } from '../steps';
import { fuzzyCandidates } from './title-fuzzy';
import { extractSeniority, type SeniorityExtraction } from './title-seniority';
import { compactKey, normalizeTitleText, sortedKey, stoplessKey, titleCase } from './title-text';
import { LEVEL_PREFIX, LEVEL_SUFFIX, MANAGEMENT_TRACK } from './title-words';

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
