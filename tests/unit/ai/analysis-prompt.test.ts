import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';
import { describeRole } from '../../../shared/domain/analysis/role-catalog';
import type { ComprehensiveRequest } from '../../../shared/domain/analysis/schemas';
import {
  InvalidAnswerError,
  checkAnswer,
  comprehensivePrompt,
} from '../../../shared/services/analysis-prompt';

const request: ComprehensiveRequest = {
  skills: ['Python', 'SQL'],
  experienceYears: 4,
  education: 'BSc',
  targetRole: 'Data Engineer',
  text: 'Ran Spark jobs.',
};
const answer = {
  score: 72,
  strengths: ['Solid Python.'],
  gaps: ['No Airflow.'],
  recommendations: ['Learn Airflow.'],
  matchedSkills: ['python', 'sql', 'spark'],
  missingSkills: ['airflow', 'Airflow'],
  confidence: 0.7,
};

describe('the comprehensive prompt and the check of an answer', () => {
  it('puts the profile, the taxonomy context and the JSON Schema into the request', () => {
    const chat = comprehensivePrompt(request, describeRole(fileBuiltInTaxonomy(), request.targetRole));
    expect(chat.responseSchema.name).toBe('comprehensive_analysis');
    expect(chat.messages[0]?.content).toContain('"matchedSkills"');
    const user = JSON.parse(chat.messages[1]?.content ?? '{}') as {
      candidate: unknown;
      roleContext: { typicalSkills: string[] };
    };
    expect(user.candidate).toMatchObject({ skills: ['Python', 'SQL'], cvText: 'Ran Spark jobs.' });
    expect(user.roleContext.typicalSkills).toEqual(expect.arrayContaining(['python', 'sql', 'spark']));
  });

  it('normalises a valid answer: profile spelling, no duplicates, unknown keys dropped', () => {
    const { analysis, confidence } = checkAnswer({ ...answer, extra: 'dropped' }, request);
    expect(analysis).toEqual({
      score: 72,
      strengths: ['Solid Python.'],
      gaps: ['No Airflow.'],
      recommendations: ['Learn Airflow.'],
      matchedSkills: ['Python', 'SQL', 'spark'],
      missingSkills: ['airflow'],
    });
    expect(confidence).toBe(0.7);
  });

  it.each<[string, unknown, RegExp]>([
    ['a schema violation', { ...answer, score: 'high' }, /score/],
    ['a score out of range', { ...answer, score: 140 }, /score/],
    ['a missing field', { ...answer, confidence: undefined }, /confidence/],
    ['not an object', ['a'], /schema/],
    ['an invented skill', { ...answer, matchedSkills: ['Python', 'Rust'] }, /Rust/],
    ['a listed skill called missing', { ...answer, missingSkills: ['sql'] }, /sql/],
  ])('rejects %s', (_name, json, message) => {
    expect(() => checkAnswer(json, request)).toThrow(InvalidAnswerError);
    expect(() => checkAnswer(json, request)).toThrow(message);
  });
});
