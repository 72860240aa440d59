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
 *
 * Where each part lives: title-words.ts (the word tables), title-text.ts (steps 1–2 and the index
 * keys), title-seniority.ts (seniority and noise words), title-match.ts (steps 3–4 and
 * normalizeTitle), title-fuzzy.ts (step 5's scores). This module is their public face.
 */
export * from './title-text';
export * from './title-seniority';
export * from './title-match';
export { tokenSimilarity, fuzzyScore } from './title-fuzzy';
export { STOP_WORDS } from './title-words';
