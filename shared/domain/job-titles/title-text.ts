/**
 * Job-title text handling: cleaning, tokenising, abbreviation expansion and the lookup keys built
 * from the result (steps 1–2 of the pipeline in normalize.ts). The taxonomy index uses the same
 * functions, so both sides agree on every key.
 */
import {
  ACCT_ACCOUNT_NEXT,
  ADMIN_ADMINISTRATIVE_NEXT,
  DEV_DEVELOPMENT_NEXT,
  DEV_DEVELOPMENT_PREV,
  ENG_ENGINEERING_NEXT,
  ENG_ENGINEERING_PREV,
  EXPANSIONS,
  JOINS,
  LOWER_WORDS,
  PROD_PRODUCT_NEXT,
  SPELLING,
  STOP_WORDS,
  TECH_TECHNICAL_NEXT,
} from './title-words';

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

/** "senior data engineer" → "Senior Data Engineer" (stop words stay lower-case except first). */
export function titleCase(text: string): string {
  return text
    .split(' ')
    .filter((w) => w.length > 0)
    .map((w, i) => (i > 0 && LOWER_WORDS.has(w) ? w : w.charAt(0).toUpperCase() + w.slice(1)))
    .join(' ');
}
