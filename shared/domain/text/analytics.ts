/**
 * Text analytics computed locally (pure; no I/O): the parts that are arithmetic over what the
 * libraries return. The libraries themselves (AFINN-165 `sentiment`, `franc-min`,
 * `keyword-extractor`) run on the worker pool (shared/adapters/workers/text-tasks.ts).
 */

/** Longest text the analytics accept (characters): about 25 pages of prose. */
export const MAX_ANALYTICS_TEXT = 50_000;
/** Language detection looks at the first this many characters (more adds time, not accuracy). */
export const LANGUAGE_SAMPLE_CHARS = 10_000;
/** Key phrases are at most this many words (a longer run of content words is cut into pieces this long). */
export const MAX_PHRASE_WORDS = 4;
/** AFINN-165 word scores run from -5 to 5. */
export const AFINN_MAX = 5;

export type SentimentLabel = 'positive' | 'negative' | 'neutral';

/**
 * The label of an AFINN result: the sign of the summed word scores (positive above 0, negative
 * below, neutral at 0 — no scored word, or scored words cancelling out).
 */
export function sentimentLabel(score: number): SentimentLabel {
  return score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral';
}

/** AFINN's comparative score (sum / tokens, in [-5, 5]) scaled to [-1, 1]. */
export function normalisedSentiment(comparative: number): number {
  const x = comparative / AFINN_MAX;
  return Math.round(Math.max(-1, Math.min(1, x)) * 1000) / 1000;
}

/** ISO 639-3 (franc) → the ISO 639-1 codes keyword-extractor has stop words for. */
export const STOPWORD_LANGUAGES: Readonly<Record<string, string>> = Object.freeze({
  arb: 'ar',
  ces: 'cs',
  dan: 'da',
  deu: 'de',
  eng: 'en',
  spa: 'es',
  pes: 'fa',
  fra: 'fr',
  glg: 'gl',
  ita: 'it',
  kor: 'ko',
  nld: 'nl',
  pol: 'pl',
  por: 'pt',
  ron: 'ro',
  rus: 'ru',
  swe: 'sv',
  tur: 'tr',
  vie: 'vi',
});

/** Clauses of a text: RAKE candidates never run across sentence or clause punctuation. */
export function clauses(text: string): string[] {
  return text
    .split(/[.,;:!?()[\]{}"“”«»\n\r\t|•·–—]+/u)
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

export interface ScoredPhrase {
  phrase: string;
  /** RAKE score: the sum of its words' degree / frequency. */
  score: number;
  /** How often the phrase occurs among the candidates. */
  count: number;
}

/**
 * RAKE (Rose et al., 2010) over candidate phrases (runs of non-stop-words, as keyword-extractor's
 * `return_chained_words` gives them): each word scores degree(w) / freq(w), where freq counts its
 * occurrences and degree sums the lengths of the candidates it occurs in; a phrase scores the sum
 * of its words. A candidate over MAX_PHRASE_WORDS words is cut into pieces of at most that many;
 * ties go to the more frequent, then alphabetical.
 */
export function rakeKeyPhrases(candidates: readonly string[], max: number): ScoredPhrase[] {
  const phrases = candidates
    .map((c) =>
      c
        .toLowerCase()
        .split(/\s+/)
        .filter((w) => w.length > 1 || /\p{N}/u.test(w)),
    )
    .flatMap((words) => {
      const pieces: string[][] = [];
      for (let i = 0; i < words.length; i += MAX_PHRASE_WORDS)
        pieces.push(words.slice(i, i + MAX_PHRASE_WORDS));
      return pieces;
    });
  const freq = new Map<string, number>();
  const degree = new Map<string, number>();
  for (const words of phrases) {
    for (const w of words) {
      freq.set(w, (freq.get(w) ?? 0) + 1);
      degree.set(w, (degree.get(w) ?? 0) + words.length);
    }
  }
  const byPhrase = new Map<string, ScoredPhrase>();
  for (const words of phrases) {
    const phrase = words.join(' ');
    const existing = byPhrase.get(phrase);
    if (existing) {
      existing.count++;
      continue;
    }
    const score = words.reduce((sum, w) => sum + (degree.get(w) ?? 0) / (freq.get(w) ?? 1), 0);
    byPhrase.set(phrase, { phrase, score: Math.round(score * 1000) / 1000, count: 1 });
  }
  return [...byPhrase.values()]
    .sort(
      (a, b) =>
        b.score - a.score || b.count - a.count || (a.phrase < b.phrase ? -1 : a.phrase > b.phrase ? 1 : 0),
    )
    .slice(0, max);
}
