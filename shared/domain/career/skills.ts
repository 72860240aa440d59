/**
 * Skills normalised against the job-title taxonomy (pure; no I/O).
 *
 * The vocabulary is every typical skill of every taxonomy title (lower-case, as curated). A skill
 * as a person types it ("Node", "K8s", "Microsoft Excel", "APIs.") is cleaned (Unicode NFKC, lower
 * case, whitespace collapsed, surrounding punctuation dropped, `+ # . / & -` inside kept so that
 * "c++", "c#", "node.js", "ci/cd" survive) and looked up as is, then through SKILL_SYNONYMS, then
 * singular/plural. Unknown skills are kept in their cleaned form and marked `known: false`.
 */
import type { JobTitle } from '../job-titles/taxonomy-schema';

/** Longest skill accepted anywhere (a skill is a short phrase). */
export const MAX_SKILL_LENGTH = 100;
/** Longest skill phrase looked for in free text, in words (the taxonomy's longest skill has 4). */
export const MAX_SKILL_WORDS = 4;

/**
 * Common spellings and abbreviations → the taxonomy's skill. Editorial; an entry is used only when
 * its target is in the vocabulary in use (an imported taxonomy may not have it).
 */
export const SKILL_SYNONYMS: Readonly<Record<string, string>> = Object.freeze({
  js: 'javascript',
  'java script': 'javascript',
  ecmascript: 'javascript',
  node: 'node.js',
  nodejs: 'node.js',
  'node js': 'node.js',
  reactjs: 'react',
  'react.js': 'react',
  k8s: 'kubernetes',
  ml: 'machine learning',
  'ms excel': 'excel',
  'microsoft excel': 'excel',
  powerbi: 'power bi',
  'microsoft power bi': 'power bi',
  'amazon web services': 'aws',
  'google cloud platform': 'gcp',
  cicd: 'ci/cd',
  'ci cd': 'ci/cd',
  'continuous integration': 'ci/cd',
  cpp: 'c++',
  'c plus plus': 'c++',
  'c sharp': 'c#',
  csharp: 'c#',
  'apache spark': 'spark',
  pyspark: 'spark',
  'apache airflow': 'airflow',
  git: 'version control',
  'a/b tests': 'a/b testing',
  'ab testing': 'a/b testing',
  'rest api': 'apis',
  'rest apis': 'apis',
  'search engine optimization': 'seo',
  'search engine optimisation': 'seo',
});

export interface SkillVocabulary {
  /** Cleaned key → the taxonomy's skill. */
  readonly skills: ReadonlyMap<string, string>;
  /** How many titles list each skill (how common it is in the taxonomy). */
  readonly titleCounts: ReadonlyMap<string, number>;
}

export interface NormalizedSkill {
  /** What was given. */
  input: string;
  /** The taxonomy's skill when known, else the cleaned input. */
  skill: string;
  known: boolean;
}

/** Lower case, NFKC, whitespace collapsed, surrounding punctuation (not + or #) dropped. */
export function cleanSkill(raw: string): string {
  return raw
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[^\p{L}\p{N}.#+]+/u, '')
    .replace(/[^\p{L}\p{N}#+]+$/u, '')
    .slice(0, MAX_SKILL_LENGTH)
    .trim();
}

export function buildSkillVocabulary(titles: readonly Pick<JobTitle, 'skills'>[]): SkillVocabulary {
  const skills = new Map<string, string>();
  const titleCounts = new Map<string, number>();
  for (const title of titles) {
    for (const skill of new Set(title.skills)) {
      const key = cleanSkill(skill);
      if (key === '') continue;
      if (!skills.has(key)) skills.set(key, skill);
      titleCounts.set(skill, (titleCounts.get(skill) ?? 0) + 1);
    }
  }
  for (const [alias, target] of Object.entries(SKILL_SYNONYMS)) {
    const canonical = skills.get(target);
    if (canonical !== undefined && !skills.has(alias)) skills.set(alias, canonical);
  }
  return { skills, titleCounts };
}

/** The taxonomy's skill a cleaned key names, trying singular and plural forms. */
function lookup(vocabulary: SkillVocabulary, key: string): string | undefined {
  const direct = vocabulary.skills.get(key);
  if (direct !== undefined) return direct;
  if (key.length > 3 && key.endsWith('s')) {
    const singular = vocabulary.skills.get(key.slice(0, -1));
    if (singular !== undefined) return singular;
  }
  return vocabulary.skills.get(`${key}s`);
}

export function normalizeSkill(vocabulary: SkillVocabulary, raw: string): NormalizedSkill {
  const key = cleanSkill(raw);
  const skill = lookup(vocabulary, key);
  return skill !== undefined ? { input: raw, skill, known: true } : { input: raw, skill: key, known: false };
}

/** Normalises a list, dropping empties and duplicates (first occurrence kept). */
export function normalizeSkills(vocabulary: SkillVocabulary, raw: readonly string[]): NormalizedSkill[] {
  const seen = new Set<string>();
  const out: NormalizedSkill[] = [];
  for (const item of raw) {
    const n = normalizeSkill(vocabulary, item);
    if (n.skill === '' || seen.has(n.skill)) continue;
    seen.add(n.skill);
    out.push(n);
  }
  return out;
}

/**
 * Words of free text for skill spotting: lower case, split on whitespace and on punctuation that
 * never occurs inside a skill; a trailing full stop or slash is dropped ("Python." → "python").
 */
export function skillWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[\s,;:()[\]{}<>"'!?|•·*–—]+/u)
    .map((w) => w.replace(/^[./&-]+|[./&-]+$/g, ''))
    .filter((w) => w.length > 0);
}

/**
 * Taxonomy skills mentioned in free text, with how often, most frequent first. Word n-grams of up
 * to MAX_SKILL_WORDS words are looked up (longest first, so "machine learning" wins over
 * "learning"); a word with `/` that names no skill ("python/sql") is also tried part by part.
 */
export function findSkillMentions(
  vocabulary: SkillVocabulary,
  text: string,
): { skill: string; count: number }[] {
  const words = skillWords(text);
  const counts = new Map<string, number>();
  const count = (skill: string) => counts.set(skill, (counts.get(skill) ?? 0) + 1);
  for (let i = 0; i < words.length;) {
    let matched = 0;
    for (let n = Math.min(MAX_SKILL_WORDS, words.length - i); n >= 1; n--) {
      const skill = lookup(vocabulary, words.slice(i, i + n).join(' '));
      if (skill !== undefined) {
        count(skill);
        matched = n;
        break;
      }
    }
    if (matched === 0 && (words[i] as string).includes('/')) {
      for (const part of (words[i] as string).split('/')) {
        const skill = part === '' ? undefined : lookup(vocabulary, part);
        if (skill !== undefined) count(skill);
      }
    }
    i += matched > 0 ? matched : 1;
  }
  return [...counts.entries()]
    .map(([skill, count]) => ({ skill, count }))
    .sort((a, b) => b.count - a.count || (a.skill < b.skill ? -1 : a.skill > b.skill ? 1 : 0));
}
