/**
 * generate_word_cloud: weighted terms from a list of job titles, and an SVG rendering of them.
 *
 * Terms: every title is normalised first (so "Sr. SWE" and "Senior Software Engineer" count
 * together). In "words" mode each normalised title contributes its words (stop words and, by
 * default, seniority words left out); in "titles" mode it contributes the whole normalised title.
 * weight = count / highest count (0..1], rounded to 4 decimals. Terms are ordered by count, then
 * alphabetically, so the same input gives the same terms in any order.
 *
 * Layout (deterministic, no randomness): terms are placed largest first along an Archimedean spiral
 * from the centre (angle θ = 0.35·k, radius r = 2.2·θ, stretched horizontally by width/height); each
 * term takes the first spiral point where its estimated box fits inside the canvas without
 * overlapping an earlier term. Font size is linear in weight between minFontSize and maxFontSize.
 * Text widths are estimated from per-character factors, so no font metrics are needed. A term that
 * finds no place is reported in `omitted`, not drawn.
 */
import { normalizeTitleSteps, STOP_WORDS, type NormalizeOptions, type TitleMatch } from './normalize';
import type { TaxonomyIndex } from './taxonomy';
import { runToEnd } from '../steps';

export type WordCloudMode = 'words' | 'titles';

/**
 * Bounds on the titles one request may normalise. Normalising costs about 0.1 ms per character
 * (fuzzy matching against every taxonomy title), so the total is what bounds the CPU one request
 * can use; it runs in slices (wordCloudSteps), but it still has to stay small enough to finish.
 */
export const TITLE_BATCH_MAX_TITLES = 1000;
export const TITLE_BATCH_MAX_TITLE_CHARS = 200;
/** Distinct characters of title text per request (repeats are normalised once and cost nothing). */
export const TITLE_BATCH_MAX_TOTAL_CHARS = 20_000;

/** Characters of distinct title text in a batch: what TITLE_BATCH_MAX_TOTAL_CHARS bounds. */
export function distinctTitleChars(titles: readonly string[]): number {
  let total = 0;
  for (const title of new Set(titles)) total += title.length;
  return total;
}

export interface WordCloudTerm {
  text: string;
  count: number;
  /** count / max count, in (0, 1]. */
  weight: number;
}

export interface WordCloud {
  mode: WordCloudMode;
  terms: WordCloudTerm[];
  /** Non-empty titles processed. */
  totalTitles: number;
  recognizedTitles: number;
  unknownTitles: number;
  /** Empty or blank inputs skipped. */
  skippedInputs: number;
  /** Distinct terms left out by maxTerms / minCount. */
  omittedTerms: number;
}

export interface WordCloudOptions extends NormalizeOptions {
  mode?: WordCloudMode;
  /** Most terms to return (default 60). */
  maxTerms?: number;
  /** Smallest count kept (default 1). */
  minCount?: number;
  /** Keep seniority words such as "senior" and "junior" in words mode (default false). */
  includeSeniority?: boolean;
  /** Extra words to leave out in words mode (case-insensitive). */
  stopWords?: readonly string[];
}

const SENIORITY_TERMS = new Set([
  'intern',
  'trainee',
  'apprentice',
  'junior',
  'graduate',
  'associate',
  'entry',
  'level',
  'mid',
  'senior',
  'lead',
  'staff',
  'principal',
  'distinguished',
  'i',
  'ii',
  'iii',
  'iv',
  'v',
]);

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Counts terms; the display form of a word is its most frequent spelling (ties: smallest). */
export function generateWordCloud(
  index: TaxonomyIndex,
  titles: readonly string[],
  options: WordCloudOptions = {},
): WordCloud {
  return runToEnd(wordCloudSteps(index, titles, options));
}

/** generateWordCloud one title normalisation per step (normalising is the costly part). */
export function* wordCloudSteps(
  index: TaxonomyIndex,
  titles: readonly string[],
  options: WordCloudOptions = {},
): Generator<void, WordCloud> {
  const mode = options.mode ?? 'words';
  const maxTerms = Math.max(0, Math.floor(options.maxTerms ?? 60));
  const minCount = Math.max(1, Math.floor(options.minCount ?? 1));
  const extraStop = new Set((options.stopWords ?? []).map((w) => w.toLowerCase()));
  const counts = new Map<string, { count: number; spellings: Map<string, number> }>();
  let totalTitles = 0;
  let recognizedTitles = 0;
  let skippedInputs = 0;

  const bump = (key: string, spelling: string): void => {
    const entry = counts.get(key) ?? { count: 0, spellings: new Map<string, number>() };
    entry.count++;
    entry.spellings.set(spelling, (entry.spellings.get(spelling) ?? 0) + 1);
    counts.set(key, entry);
  };

  // Title lists repeat a lot; normalise each distinct spelling once.
  const memo = new Map<string, TitleMatch>();
  for (const raw of titles) {
    if (typeof raw !== 'string' || raw.trim().length === 0) {
      skippedInputs++;
      continue;
    }
    totalTitles++;
    let match = memo.get(raw);
    if (!match) {
      yield;
      match = yield* normalizeTitleSteps(index, raw, options);
      memo.set(raw, match);
    }
    if (match.known) recognizedTitles++;
    const display = match.normalizedTitle;
    if (display.length === 0) continue;
    if (mode === 'titles') {
      bump(display.toLowerCase(), display);
      continue;
    }
    const seen = new Set<string>();
    for (const word of display.split(/\s+/)) {
      const key = word.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}+#]+$/gu, '');
      if (key.length === 0 || seen.has(key)) continue;
      if (STOP_WORDS.has(key) || extraStop.has(key)) continue;
      if (!options.includeSeniority && SENIORITY_TERMS.has(key)) continue;
      seen.add(key);
      bump(key, word);
    }
  }

  const all = [...counts.values()]
    .map((e) => {
      const spelling = [...e.spellings.entries()].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))[0];
      return { text: spelling ? spelling[0] : '', count: e.count };
    })
    .filter((t) => t.count >= minCount)
    .sort(
      (a, b) =>
        b.count - a.count ||
        compareText(a.text.toLowerCase(), b.text.toLowerCase()) ||
        compareText(a.text, b.text),
    );
  const kept = all.slice(0, maxTerms);
  const max = kept[0]?.count ?? 0;
  return {
    mode,
    terms: kept.map((t) => ({
      text: t.text,
      count: t.count,
      weight: max === 0 ? 0 : Math.round((t.count / max) * 10000) / 10000,
    })),
    totalTitles,
    recognizedTitles,
    unknownTitles: totalTitles - recognizedTitles,
    skippedInputs,
    omittedTerms: counts.size - kept.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Layout and SVG
// ---------------------------------------------------------------------------------------------

export interface WordCloudSvgOptions {
  width?: number;
  height?: number;
  minFontSize?: number;
  maxFontSize?: number;
  fontFamily?: string;
  /** Fill colours used in turn, largest term first. */
  palette?: readonly string[];
  /** Background fill, or "none" (default "#ffffff"). */
  background?: string;
  /** Accessible title of the image. */
  title?: string;
  padding?: number;
}

export interface PlacedTerm {
  text: string;
  count: number;
  weight: number;
  /** Centre of the term's box. */
  x: number;
  y: number;
  fontSize: number;
  width: number;
  height: number;
  color: string;
}

export interface WordCloudLayout {
  width: number;
  height: number;
  placed: PlacedTerm[];
  /** Terms that did not fit. */
  omitted: string[];
}

export const DEFAULT_PALETTE: readonly string[] = [
  '#1f4e79',
  '#2e75b6',
  '#c55a11',
  '#548235',
  '#7030a0',
  '#bf9000',
  '#2f5597',
  '#833c0b',
];

const NARROW = new Set([..."fijlrtI.,:;!|'`()[] "]);
const WIDE = new Set([...'mwMW@%']);

/** Estimated rendered width of `text` in em (font-size units). */
export function estimateTextWidthEm(text: string): number {
  let em = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) em += ch === ' ' ? 0.3 : 0.32;
    else if (WIDE.has(ch)) em += 0.9;
    else if (ch >= 'A' && ch <= 'Z') em += 0.72;
    else em += 0.6;
  }
  return em;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function finite(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overlaps(a: Box, b: Box, margin: number): boolean {
  return (
    a.x - margin < b.x + b.w &&
    b.x - margin < a.x + a.w &&
    a.y - margin < b.y + b.h &&
    b.y - margin < a.y + a.h
  );
}

const MAX_SPIRAL_STEPS = 6000;

/** Places terms; pure and deterministic. */
export function layoutWordCloud(
  terms: readonly WordCloudTerm[],
  options: WordCloudSvgOptions = {},
): WordCloudLayout {
  const width = Math.round(clamp(finite(options.width, 800), 100, 4000));
  const height = Math.round(clamp(finite(options.height, 450), 100, 4000));
  const minFont = clamp(finite(options.minFontSize, 12), 4, 200);
  const maxFont = clamp(finite(options.maxFontSize, 56), minFont, 400);
  const padding = clamp(finite(options.padding, 8), 0, Math.min(width, height) / 4);
  const palette = options.palette && options.palette.length > 0 ? options.palette : DEFAULT_PALETTE;
  const ordered = terms
    .filter((t) => t.text.length > 0)
    .map((t, i) => ({ t, i }))
    .sort((a, b) => b.t.weight - a.t.weight || b.t.count - a.t.count || a.i - b.i)
    .map(({ t }) => t);
  const placedBoxes: Box[] = [];
  const placed: PlacedTerm[] = [];
  const omitted: string[] = [];
  const cx = width / 2;
  const cy = height / 2;
  const stretch = width / height;
  const innerW = width - 2 * padding;
  const innerH = height - 2 * padding;

  for (const term of ordered) {
    const weight = clamp(finite(term.weight, 0), 0, 1);
    let fontSize = minFont + (maxFont - minFont) * weight;
    const em = estimateTextWidthEm(term.text);
    if (em * fontSize > innerW) fontSize = Math.max(minFont, innerW / em);
    const w = em * fontSize;
    const h = fontSize * 1.15;
    if (w > innerW || h > innerH) {
      omitted.push(term.text);
      continue;
    }
    let spot: Box | null = null;
    for (let k = 0; k < MAX_SPIRAL_STEPS; k++) {
      const angle = 0.35 * k;
      const radius = 2.2 * angle;
      const x = cx + radius * Math.cos(angle) * stretch;
      const y = cy + radius * Math.sin(angle);
      const box: Box = { x: x - w / 2, y: y - h / 2, w, h };
      if (box.x < padding || box.y < padding || box.x + w > width - padding || box.y + h > height - padding) {
        if (radius * Math.min(1, stretch) > Math.max(width, height)) break;
        continue;
      }
      if (placedBoxes.some((b) => overlaps(box, b, 3))) continue;
      spot = box;
      break;
    }
    if (!spot) {
      omitted.push(term.text);
      continue;
    }
    placedBoxes.push(spot);
    placed.push({
      text: term.text,
      count: term.count,
      weight,
      x: round1(spot.x + w / 2),
      y: round1(spot.y + h / 2),
      fontSize: round1(fontSize),
      width: round1(w),
      height: round1(h),
      color: palette[placed.length % palette.length] as string,
    });
  }
  return { width, height, placed, omitted };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** True for code points XML 1.0 allows: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000+. */
function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Escapes text for XML content and attribute values. Drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (!isXmlChar(cp)) continue;
    switch (ch) {
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      case '"':
        out += '&quot;';
        break;
      case "'":
        out += '&apos;';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

const fmt = (n: number): string => n.toFixed(1);

/**
 * Renders terms as a standalone SVG document (UTF-8 text). Same terms and options → same bytes.
 */
export function renderWordCloudSvg(
  terms: readonly WordCloudTerm[],
  options: WordCloudSvgOptions = {},
): string {
  const layout = layoutWordCloud(terms, options);
  const fontFamily = escapeXml(options.fontFamily ?? 'Helvetica, Arial, sans-serif');
  const title = escapeXml(options.title ?? 'Job title word cloud');
  const background = options.background ?? '#ffffff';
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" role="img" aria-label="${title}">`,
    `<title>${title}</title>`,
  ];
  if (background !== 'none') {
    parts.push(
      `<rect x="0" y="0" width="${layout.width}" height="${layout.height}" fill="${escapeXml(background)}"/>`,
    );
  }
  parts.push(`<g font-family="${fontFamily}" text-anchor="middle">`);
  for (const p of layout.placed) {
    // Baseline ≈ centre + 0.35 em puts the glyphs' visual middle on the box centre.
    parts.push(
      `<text x="${fmt(p.x)}" y="${fmt(p.y + p.fontSize * 0.35)}" font-size="${fmt(p.fontSize)}" fill="${escapeXml(p.color)}" data-count="${p.count}" data-weight="${p.weight}">${escapeXml(p.text)}</text>`,
    );
  }
  parts.push('</g>', '</svg>');
  return `${parts.join('\n')}\n`;
}
