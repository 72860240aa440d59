/**
 * The comprehensive analysis as a chat request, and the check of what comes back. A provider's answer
 * is used only when it passes providerAnswerSchema and the consistency rules below; otherwise the
 * attempt is an `invalid-output` failure, and the answer is never passed on.
 */
import type { ComprehensiveAnalysis, ComprehensiveRequest } from '../domain/analysis/schemas';
import { mentions } from '../domain/analysis/heuristic';
import type { RoleInfo } from '../domain/analysis/role-catalog';
import type { ChatRequest } from '../ports/chat-model';
import { providerAnswerJsonSchema, providerAnswerSchema } from './analysis-schemas';

export const RESPONSE_SCHEMA_NAME = 'comprehensive_analysis';

const SYSTEM_PROMPT = [
  'You are a careful career analyst. Assess how well a candidate fits a target role.',
  'Answer with one JSON object and nothing else, matching this JSON Schema:',
  '{schema}',
  'Rules:',
  '- score: 0-100, the overall fit for the target role.',
  "- matchedSkills: only skills from the candidate's skills list or mentioned in the CV text, copied verbatim.",
  "- missingSkills: skills the role needs that the candidate lacks; never one of the candidate's skills.",
  '- strengths, gaps, recommendations: short, specific sentences grounded in the profile; do not invent facts.',
  '- confidence: 0-1, how sure you are of the assessment given the information provided.',
].join('\n');

/** The chat request for one comprehensive analysis (the same for every provider). */
export function comprehensivePrompt(request: ComprehensiveRequest, role: RoleInfo): ChatRequest {
  const schema = providerAnswerJsonSchema();
  const profile = {
    targetRole: request.targetRole,
    skills: request.skills,
    experienceYears: request.experienceYears,
    education: request.education,
    ...(request.text ? { cvText: request.text } : {}),
  };
  const context = role.known
    ? {
        title: role.title,
        family: role.family?.name ?? null,
        seniority: role.seniority,
        typicalSkills: role.typicalSkills,
        source: 'job-title taxonomy (curated)',
      }
    : null;
  return {
    messages: [
      { role: 'system', content: SYSTEM_PROMPT.replace('{schema}', JSON.stringify(schema)) },
      { role: 'user', content: JSON.stringify({ candidate: profile, roleContext: context }) },
    ],
    responseSchema: { name: RESPONSE_SCHEMA_NAME, schema },
  };
}

export class InvalidAnswerError extends Error {
  override name = 'InvalidAnswerError';
}

function key(skill: string): string {
  return skill.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Validates a provider's parsed answer and normalises it into the result shape:
 * - it must satisfy providerAnswerSchema (types, bounds, sizes);
 * - every matched skill must be one the profile lists or the CV text mentions as a word (then spelled as the
 *   profile spells it), and no missing skill may be one the profile lists — otherwise the provider
 *   made something up, and the answer is invalid;
 * - duplicates (case-insensitive) are dropped.
 */
export function checkAnswer(
  json: unknown,
  request: ComprehensiveRequest,
): { analysis: ComprehensiveAnalysis; confidence: number } {
  const parsed = providerAnswerSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new InvalidAnswerError(`the answer does not match the schema: ${first}`);
  }
  const answer = parsed.data;
  const listed = new Map(request.skills.map((s) => [key(s), s.trim()] as const));
  const text = request.text ?? '';

  const matched = new Map<string, string>();
  const invented: string[] = [];
  for (const s of answer.matchedSkills) {
    const own = listed.get(key(s));
    if (matched.has(key(s))) continue;
    if (own !== undefined) matched.set(key(s), own);
    else if (text !== '' && mentions(text, s)) matched.set(key(s), s.trim());
    else invented.push(s);
  }
  if (invented.length > 0) {
    throw new InvalidAnswerError(
      `matchedSkills names skills the profile does not have: ${invented.slice(0, 5).join(', ')}`,
    );
  }
  const missing = new Map<string, string>();
  for (const s of answer.missingSkills) {
    if (listed.has(key(s)))
      throw new InvalidAnswerError(`missingSkills names a skill the profile lists: ${s}`);
    if (!matched.has(key(s)) && !missing.has(key(s))) missing.set(key(s), s.trim());
  }
  return {
    analysis: {
      score: answer.score,
      strengths: answer.strengths,
      gaps: answer.gaps,
      recommendations: answer.recommendations,
      matchedSkills: [...matched.values()],
      missingSkills: [...missing.values()],
    },
    confidence: answer.confidence,
  };
}
