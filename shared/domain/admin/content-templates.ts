import { z } from 'zod';

/**
 * Content generation for the admin portal (issue 14 item 5): what may be asked (`contentRequestSchema`),
 * the shape every answer must have (`contentOutputSchemas`, checked for a provider's answer and for
 * the template alike), and the template drafts used when no AI provider answers.
 *
 * A template draft is built from the input alone: it restates what the admin gave and marks what is
 * missing with a bracketed placeholder (listed in `placeholders`), so it never states a fact that
 * was not in the input.
 */

const text = (max: number) => z.string().trim().min(1).max(max);
const list = (maxItems: number, maxLength: number) => z.array(text(maxLength)).max(maxItems);

export const contentRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('profile_summary'),
    input: z.strictObject({
      name: text(100).optional(),
      jobTitle: text(200),
      skills: list(50, 60).optional(),
      experienceYears: z.number().min(0).max(60).optional(),
      highlights: list(10, 300).optional(),
    }),
  }),
  z.strictObject({
    kind: z.literal('job_description'),
    input: z.strictObject({
      title: text(200),
      company: text(100).optional(),
      location: text(100).optional(),
      seniority: text(50).optional(),
      skills: list(30, 60).optional(),
      responsibilities: list(10, 300).optional(),
    }),
  }),
  z.strictObject({
    kind: z.literal('outreach_email'),
    input: z.strictObject({
      candidateName: text(100),
      jobTitle: text(200),
      company: text(100).optional(),
      senderName: text(100).optional(),
      reason: text(300).optional(),
    }),
  }),
]);
export type ContentRequest = z.output<typeof contentRequestSchema>;
export type ContentKind = ContentRequest['kind'];

const line = (max: number) => z.string().min(1).max(max);

/** The output of each kind; a provider's answer must match it exactly (and so must every template). */
export const contentOutputSchemas = {
  profile_summary: z.strictObject({
    headline: line(150),
    summary: line(1500),
    bullets: z.array(line(300)).max(10),
  }),
  job_description: z.strictObject({
    headline: line(150),
    summary: line(1500),
    responsibilities: z.array(line(300)).max(12),
    requirements: z.array(line(300)).max(15),
  }),
  outreach_email: z.strictObject({
    subject: line(200),
    body: line(3000),
  }),
} as const;
export type ContentOutput = z.output<(typeof contentOutputSchemas)[ContentKind]>;

function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A template draft: from the input only, with bracketed placeholders for what is missing. */
export function templateDraft(request: ContentRequest): { output: ContentOutput; placeholders: string[] } {
  const placeholders: string[] = [];
  const hole = (name: string) => {
    placeholders.push(name);
    return `[${name}]`;
  };
  switch (request.kind) {
    case 'profile_summary': {
      const { name, jobTitle, skills = [], experienceYears, highlights = [] } = request.input;
      const years =
        experienceYears === undefined
          ? ''
          : ` with ${experienceYears} ${experienceYears === 1 ? 'year' : 'years'} of experience`;
      const skillText = skills.length > 0 ? ` Skills: ${joinList(skills.slice(0, 10))}.` : '';
      const summary =
        `${name ? `${name} is a ` : 'A '}${jobTitle}${years}.${skillText}` +
        (highlights.length > 0 ? ` ${highlights.join(' ')}` : ` ${hole('achievements')}`);
      return {
        output: {
          headline: name ? `${name} — ${jobTitle}` : jobTitle,
          summary,
          bullets: highlights.length > 0 ? highlights.slice(0, 10) : skills.slice(0, 10),
        },
        placeholders,
      };
    }
    case 'job_description': {
      const { title, company, location, seniority, skills = [], responsibilities = [] } = request.input;
      const at = company ? ` at ${company}` : ` at ${hole('company')}`;
      const where = location ? ` in ${location}` : '';
      const level = seniority ? `${seniority} ` : '';
      return {
        output: {
          headline: `${level}${title}${company ? ` — ${company}` : ''}`,
          summary: `We are looking for a ${level}${title}${at}${where}.`,
          responsibilities:
            responsibilities.length > 0 ? responsibilities.slice(0, 12) : [hole('responsibilities')],
          requirements:
            skills.length > 0
              ? skills.slice(0, 15).map((s) => `Experience with ${s}`)
              : [hole('requirements')],
        },
        placeholders,
      };
    }
    case 'outreach_email': {
      const { candidateName, jobTitle, company, senderName, reason } = request.input;
      const org = company ?? hole('company');
      const because = reason ? ` ${reason}` : '';
      return {
        output: {
          subject: `${jobTitle} at ${org}`,
          body:
            `Dear ${candidateName},\n\nI am reaching out about the ${jobTitle} role at ${org}.${because}\n\n` +
            `Would you be open to a short conversation?\n\nKind regards,\n${senderName ?? hole('sender name')}`,
        },
        placeholders,
      };
    }
  }
}
