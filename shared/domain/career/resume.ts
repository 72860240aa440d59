/**
 * Resumes (pure; no I/O): which format bytes are, and the sections of a resume's text.
 *
 * Sections are found by their headings: a short line (at most MAX_HEADING_CHARS, optionally ending
 * in ":") that names a known section in English, German, French or Spanish ("Work Experience",
 * "Berufserfahrung", "Formation", "Habilidades" …). Text before the first heading is the header
 * (name, contact). Each section keeps its non-empty lines, bounded.
 */

export type ResumeFormat = 'pdf' | 'docx' | 'text';

export const RESUME_CONTENT_TYPES: Readonly<Record<ResumeFormat, string>> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  text: 'text/plain',
};

/** Longest heading line. */
export const MAX_HEADING_CHARS = 48;
/** Lines kept per section, and characters per line. */
export const MAX_SECTION_LINES = 300;
export const MAX_LINE_CHARS = 500;

export type SectionName =
  'summary' | 'experience' | 'education' | 'skills' | 'certifications' | 'projects' | 'languages' | 'other';

const HEADINGS: readonly { name: SectionName; pattern: RegExp }[] = [
  {
    name: 'experience',
    pattern:
      /^((professional|work|working|relevant|employment|career)\s+)?(experience|history)$|^(employment|work|career)(\s+history)?$|^berufserfahrung$|^berufliche\s+erfahrung$|^exp[ée]rience(s)?(\s+professionnelle(s)?)?$|^experiencia(\s+(laboral|profesional))?$/,
  },
  {
    name: 'education',
    pattern:
      /^(education|academic background|academic qualifications|qualifications|education and training|education & training)$|^(aus|schul)bildung$|^formation(s)?$|^[ée]ducation$|^educaci[óo]n$|^formaci[óo]n(\s+acad[ée]mica)?$/,
  },
  {
    name: 'skills',
    pattern:
      /^((technical|key|core|professional)\s+)?(skills|competencies|competences|expertise)$|^skills\s*(&|and)\s*\w+$|^technologies$|^tools(\s*(&|and)\s*technologies)?$|^(kenntnisse|f[äa]higkeiten|kompetenzen)$|^comp[ée]tences$|^(habilidades|competencias|conocimientos)$/,
  },
  {
    name: 'summary',
    pattern:
      /^((professional|career)\s+)?(summary|profile|objective)$|^about( me)?$|^profil$|^kurzprofil$|^r[ée]sum[ée]$|^perfil(\s+profesional)?$/,
  },
  {
    name: 'certifications',
    pattern: /^(certifications?|certificates?|licen[cs]es?( and certifications)?)$|^zertifikate$/,
  },
  { name: 'projects', pattern: /^((selected|key|personal)\s+)?projects$|^projekte$|^projets$|^proyectos$/ },
  { name: 'languages', pattern: /^languages?$|^sprachen$|^langues$|^idiomas$/ },
  {
    name: 'other',
    pattern:
      /^(interests|hobbies|awards|honou?rs|publications|references|volunteer(ing)?(\s+experience)?|activities|achievements)$/,
  },
];

export interface ResumeSection {
  name: SectionName;
  /** The heading as written. */
  heading: string;
  lines: string[];
}

export interface ResumeSections {
  /** Lines before the first heading (name, contact details). */
  header: string[];
  sections: ResumeSection[];
  /** Raw items of the skills sections, split on commas, semicolons, bullets and line breaks. */
  skillItems: string[];
}

/** The format the bytes are, from their signature; the declared content type only breaks ties. */
export function detectResumeFormat(bytes: Uint8Array, contentType: string | null): ResumeFormat | null {
  const startsWith = (sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (startsWith([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf'; // %PDF-
  if (startsWith([0x50, 0x4b, 0x03, 0x04])) {
    // A zip: a DOCX when declared so or named so; other zips (xlsx, odt, …) are not resumes here.
    const type = (contentType ?? '').toLowerCase();
    return type.startsWith(RESUME_CONTENT_TYPES.docx) || type === 'application/octet-stream' || type === ''
      ? 'docx'
      : null;
  }
  const type = (contentType ?? '').toLowerCase().split(';')[0]?.trim() ?? '';
  if (type === 'text/plain' || type === 'text/markdown') return 'text';
  return null;
}

function headingOf(line: string): SectionName | null {
  const text = line
    .trim()
    .replace(/[:：]\s*$/, '')
    .replace(/^[#*•\-\s]+|[#*\s]+$/g, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
  if (text.length === 0 || text.length > MAX_HEADING_CHARS) return null;
  for (const { name, pattern } of HEADINGS) if (pattern.test(text)) return name;
  return null;
}

function clipLine(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line;
}

/** Splits a resume's text into its sections. */
export function parseResumeSections(text: string): ResumeSections {
  const header: string[] = [];
  const sections: ResumeSection[] = [];
  let current: ResumeSection | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+/g, ' ').trim();
    if (line === '') continue;
    const name = headingOf(line);
    if (name !== null) {
      current = { name, heading: line.replace(/[:：]\s*$/, ''), lines: [] };
      sections.push(current);
      continue;
    }
    const target = current ? current.lines : header;
    if (target.length < MAX_SECTION_LINES) target.push(clipLine(line));
  }
  const skillItems = sections
    .filter((s) => s.name === 'skills')
    .flatMap((s) => s.lines)
    .flatMap((line) => line.replace(/^[^:]{1,40}:\s+/, '').split(/[,;•·|]|\s[-–]\s/))
    .map((item) => item.replace(/^[\s*\-–•]+/, '').trim())
    .filter((item) => item.length > 0 && item.length <= 100);
  return { header, sections, skillItems: [...new Set(skillItems)].slice(0, MAX_SECTION_LINES) };
}

/** Lines of the named sections, in order. */
export function sectionLines(parsed: ResumeSections, name: SectionName): string[] {
  return parsed.sections.filter((s) => s.name === name).flatMap((s) => s.lines);
}
