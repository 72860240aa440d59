/**
 * Who a user is, for the career services (pure; no I/O): their skills, their current and target
 * titles, from the profile and the latest resume, each with where it came from.
 */
import { normalizeTitle, type TaxonomyIndex } from '../job-titles';
import type { JsonValue } from '../json';
import type { Seniority } from '../job-titles/taxonomy-schema';

/** Profile fields read as the current title, in this order. */
export const CURRENT_TITLE_FIELDS = ['jobTitle', 'currentTitle', 'title', 'currentRole'] as const;
/** Profile fields read as the target title, in this order. */
export const TARGET_TITLE_FIELDS = ['targetRole', 'targetTitle', 'desiredRole'] as const;
/** Profile field read as years of experience (a number). */
export const EXPERIENCE_FIELD = 'experienceYears';
/** Profile field read as the highest education (text). */
export const EDUCATION_FIELD = 'education';
/** A title read from a resume line counts when normalisation is at least this sure. */
export const RESUME_TITLE_CONFIDENCE = 0.85;

export interface TitleEvidence {
  title: string;
  titleId: string;
  family: string;
  seniority: Seniority;
  /** Where it came from: `query`, `profile.<field>` or `resume:<resumeId>`. */
  source: string;
  /** The text it was read from. */
  from: string;
  confidence: number;
}

export interface SkillEvidence {
  skill: string;
  /** `profile`, `resume:<id>` (skills section) or `resume-text:<id>` (mentioned in the text). */
  sources: string[];
}

export interface CandidateView {
  userId: string;
  skills: SkillEvidence[];
  current: TitleEvidence | null;
  target: TitleEvidence | null;
  experienceYears: number | null;
  education: string | null;
  /** What was looked at and not usable (an unknown title, …), so the answer can say so. */
  notes: string[];
}

export interface ResumeFacts {
  id: string;
  skills: readonly { skill: string; source: 'skills-section' | 'text' }[];
  experienceLines: readonly string[];
  educationLines: readonly string[];
}

/** "Senior Data Engineer, Acme (2022 - present)" → "Senior Data Engineer". */
export function titlePartOfLine(line: string): string {
  return (line.split(/,|\s[-–—|@]\s|\s(?:at|bei|chez|en)\s|\(|\d{4}/i)[0] ?? '').trim();
}

export function resolveTitle(
  index: TaxonomyIndex,
  text: string,
  source: string,
  minConfidence = 0,
): TitleEvidence | null {
  const match = normalizeTitle(index, text);
  if (!match.known || match.titleId === null || match.confidence < minConfidence) return null;
  const title = index.titles.get(match.titleId);
  if (!title) return null;
  return {
    title: title.name,
    titleId: title.id,
    family: title.family,
    seniority: title.seniority,
    source,
    from: text,
    confidence: Math.round(match.confidence * 1000) / 1000,
  };
}

const textField = (data: Record<string, JsonValue>, field: string): string | null => {
  const v = data[field];
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 200) : null;
};

export function candidateView(
  index: TaxonomyIndex,
  input: {
    userId: string;
    profile: Record<string, JsonValue> | undefined;
    profileSkills: readonly string[];
    resume: ResumeFacts | undefined;
    /** An explicit current title (`?title=`), which wins over the profile and the resume. */
    title?: string;
  },
): CandidateView {
  const data = input.profile ?? {};
  const notes: string[] = [];
  const skills = new Map<string, string[]>();
  const add = (skill: string, source: string) => {
    const sources = skills.get(skill);
    if (sources) {
      if (!sources.includes(source)) sources.push(source);
    } else skills.set(skill, [source]);
  };
  for (const s of input.profileSkills) add(s, 'profile');
  for (const s of input.resume?.skills ?? []) {
    add(
      s.skill,
      s.source === 'skills-section' ? `resume:${input.resume?.id}` : `resume-text:${input.resume?.id}`,
    );
  }

  let current: TitleEvidence | null = null;
  if (input.title !== undefined) {
    current = resolveTitle(index, input.title, 'query');
    if (!current) notes.push(`The title "${input.title}" is not in the job-title taxonomy.`);
  }
  for (const field of CURRENT_TITLE_FIELDS) {
    if (current || input.title !== undefined) break;
    const text = textField(data, field);
    if (text === null) continue;
    current = resolveTitle(index, text, `profile.${field}`);
    if (!current) notes.push(`The profile's ${field} "${text}" is not in the job-title taxonomy.`);
  }
  if (!current && input.title === undefined && input.resume) {
    for (const line of input.resume.experienceLines) {
      const part = titlePartOfLine(line);
      if (part.length < 3 || part.length > 80) continue;
      current = resolveTitle(index, part, `resume:${input.resume.id}`, RESUME_TITLE_CONFIDENCE);
      if (current) {
        current.from = line;
        break;
      }
    }
  }
  if (!current) notes.push('No current title is known (profile jobTitle, the latest resume, or ?title=).');

  let target: TitleEvidence | null = null;
  for (const field of TARGET_TITLE_FIELDS) {
    const text = textField(data, field);
    if (text === null) continue;
    target = resolveTitle(index, text, `profile.${field}`);
    if (!target) notes.push(`The profile's ${field} "${text}" is not in the job-title taxonomy.`);
    break;
  }

  const years = data[EXPERIENCE_FIELD];
  return {
    userId: input.userId,
    skills: [...skills.entries()].map(([skill, sources]) => ({ skill, sources })),
    current,
    target,
    experienceYears: typeof years === 'number' && years >= 0 && years <= 70 ? years : null,
    education: textField(data, EDUCATION_FIELD) ?? input.resume?.educationLines[0] ?? null,
    notes,
  };
}
