/**
 * Seniority in a job title: the seniority words ("senior", "jr", "staff", "II", "level 3" …) and
 * noise words ("remote", "contract" …) at either end of an expanded token list (step 4 of the
 * pipeline in normalize.ts).
 */
import { SENIORITY_RANK, type Seniority } from './taxonomy-schema';
import { LEVEL_SUFFIX, NOISE_WORDS, SENIORITY_WORDS } from './title-words';

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
