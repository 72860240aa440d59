import type { JsonValue } from '../json';

/**
 * Profile enrichment (POST /api/admin/ai/enrich), the pure part: which profile fields hold the job
 * title and the skills, and which skills of a known vocabulary a CV text names. Everything it
 * returns is found in the profile or the text; nothing is guessed.
 */

/** Profile fields read as the job title, first present wins. */
export const TITLE_FIELDS = ['jobTitle', 'title', 'currentTitle', 'position'] as const;
/** Profile fields read as the person's name, email and title by the admin search (`q`). */
export const SEARCH_NAME_FIELDS = ['name', 'displayName', 'fullName', 'firstName', 'lastName'] as const;
export const SEARCH_EMAIL_FIELDS = ['email'] as const;
export const SEARCH_TITLE_FIELDS = ['jobTitle', 'title', 'currentTitle', 'position'] as const;
/** The profile field an enrichment writes (one field, so one enrichment is one change). */
export const ENRICHMENT_FIELD = 'enrichment';
/** The most CV text an enrichment reads (characters). */
export const MAX_CV_TEXT = 200_000;
const MAX_SKILL_WORDS = 4;

export function profileTitle(data: Record<string, JsonValue>): string | null {
  for (const name of TITLE_FIELDS) {
    const value = data[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 200);
  }
  return null;
}

/** The skills a profile lists: `skills` as an array of strings or a comma/semicolon-separated string. */
export function profileSkills(data: Record<string, JsonValue>): string[] {
  const raw = data.skills;
  const items =
    typeof raw === 'string'
      ? raw.split(/[,;\n]/)
      : Array.isArray(raw)
        ? raw.filter((s): s is string => typeof s === 'string')
        : [];
  return dedupe(items.map((s) => s.trim()).filter((s) => s.length > 0 && s.length <= 100));
}

/** Case-insensitive dedupe keeping the first spelling. */
export function dedupe(items: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const item of items) {
    const key = item.toLowerCase();
    if (!seen.has(key)) seen.set(key, item);
  }
  return [...seen.values()];
}

/** Lower-case words of a text; `+`, `#` and `.` inside words are kept (c++, c#, node.js). */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}+#.]+/u)
    .map((w) => w.replace(/^\.+|\.+$/g, ''))
    .filter((w) => w.length > 0);
}

/**
 * The skills of `vocabulary` that `text` names as whole words (one to four words, any case), in
 * vocabulary order, spelled as the vocabulary spells them.
 */
export function skillsInText(text: string, vocabulary: readonly string[]): string[] {
  const tokens = words(text.slice(0, MAX_CV_TEXT));
  const phrases = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    let phrase = '';
    for (let n = 0; n < MAX_SKILL_WORDS && i + n < tokens.length; n++) {
      phrase = n === 0 ? (tokens[i] as string) : `${phrase} ${tokens[i + n] as string}`;
      phrases.add(phrase);
    }
  }
  const found: string[] = [];
  for (const skill of vocabulary) {
    const key = words(skill).join(' ');
    if (key !== '' && phrases.has(key)) found.push(skill);
  }
  return dedupe(found);
}
