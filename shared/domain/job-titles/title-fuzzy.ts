/**
 * Fuzzy job-title matching (step 5 of the pipeline in normalize.ts): Levenshtein similarity per
 * token, and a soft Dice score over weighted tokens.
 */
import { distance } from 'fastest-levenshtein';
import type { TitleLookup } from './title-match';
import { STOP_WORDS } from './title-words';

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

export interface FuzzyCandidate {
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

/** Scored fuzzy candidates, in steps (see domain/steps.ts): one per query token and per 64 entries scored. */
export function* fuzzyCandidates(
  lookup: TitleLookup,
  query: readonly string[],
): Generator<void, FuzzyCandidate[]> {
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
