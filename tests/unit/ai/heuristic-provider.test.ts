import {
  REQUIRED_YEARS_BY_SENIORITY,
  heuristicComprehensive,
  mentions,
  recogniseEducation,
} from '../../../shared/domain/analysis/heuristic';
import { fileBuiltInTaxonomy } from '../../../shared/adapters/reference/taxonomy-file';
import { describeRole, unknownRole } from '../../../shared/domain/analysis/role-catalog';
import { taxonomyRoleLookup } from '../../../shared/services/role-lookup';
import {
  comprehensiveAnalysisSchema,
  type ComprehensiveRequest,
} from '../../../shared/domain/analysis/schemas';

const taxonomy = fileBuiltInTaxonomy();
const roles = (role: string) => describeRole(taxonomy, role);
const base: ComprehensiveRequest = {
  skills: ['Python', 'SQL', 'Spark', 'Kubernetes'],
  experienceYears: 3,
  education: 'BSc Computer Science',
  targetRole: 'Senior Data Engineer',
};
const run = (request: ComprehensiveRequest) => heuristicComprehensive(request, roles(request.targetRole));

describe('heuristic provider', () => {
  it('gives the same answer twice', () => {
    expect(run(base)).toEqual(run({ ...base, skills: [...base.skills] }));
  });

  it('computes matched and missing skills from the taxonomy, in its order, with the profile spelling', () => {
    const role = roles(base.targetRole);
    expect(role).toMatchObject({ known: true, title: 'Senior Data Engineer', seniority: 'senior' });
    const { analysis } = run(base);
    expect(comprehensiveAnalysisSchema.parse(analysis)).toEqual(analysis);
    expect(analysis.matchedSkills).toEqual(['SQL', 'Python', 'Spark']);
    expect(analysis.missingSkills).toEqual(
      role.typicalSkills.filter((s) => !['sql', 'python', 'spark'].includes(s)),
    );
    expect(analysis.strengths.join(' ')).toMatch(/Kubernetes/); // a skill beyond the typical set
    expect(analysis.gaps.join(' ')).toMatch(/3 years of experience, below the ~5/);
    expect(analysis.recommendations.join(' ')).toMatch(/stepping-stone role .*Data Engineer/);
  });

  it.each<[string, Partial<ComprehensiveRequest>]>([
    ['skills', { skills: ['Python'] }],
    ['experience', { experienceYears: 8 }],
    ['target role', { targetRole: 'Registered Nurse' }],
    ['education', { education: 'PhD Physics' }],
    ['CV text', { text: 'Built Airflow pipelines and a data warehouse.' }],
  ])('changes when the %s changes', (_what, change) => {
    expect(run({ ...base, ...change })).not.toEqual(run(base));
  });

  it('the score rises with each matched skill and with experience up to the requirement', () => {
    const fewer = run({ ...base, skills: ['Python'] }).analysis.score;
    const more = run(base).analysis.score;
    expect(more).toBeGreaterThan(fewer);
    const senior = run({ ...base, experienceYears: REQUIRED_YEARS_BY_SENIORITY.senior }).analysis.score;
    expect(senior).toBeGreaterThan(more);
    // No extra credit beyond the requirement.
    expect(run({ ...base, experienceYears: 30 }).analysis.score).toBe(senior);
  });

  it('counts typical skills the CV text mentions as whole words', () => {
    const { analysis } = run({
      ...base,
      text: 'Orchestrated jobs in Airflow; modelled a data warehousing layer.',
    });
    expect(analysis.matchedSkills).toEqual(expect.arrayContaining(['airflow', 'data warehousing']));
    expect(mentions('Using C++ and CI/CD daily', 'c++')).toBe(true);
    expect(mentions('Using C++ and CI/CD daily', 'ci/cd')).toBe(true);
    expect(mentions('JavaScript', 'java')).toBe(false);
  });

  it('an unknown role yields no skill evidence, says so, and suggests known titles', () => {
    const role = roles('Chief Vibe Officer of Things');
    const { analysis, confidence } = heuristicComprehensive({ ...base, targetRole: role.input }, role);
    expect(analysis.matchedSkills).toEqual([]);
    expect(analysis.missingSkills).toEqual([]);
    expect(analysis.gaps.join(' ')).toMatch(/not in the job-title taxonomy/);
    expect(confidence).toBeLessThan(run(base).confidence);
  });

  it('the async lookup answers like describeRole, and "unknown" when the taxonomy cannot be loaded', async () => {
    await expect(taxonomyRoleLookup(fileBuiltInTaxonomy)(base.targetRole)).resolves.toEqual(
      roles(base.targetRole),
    );
    const failing = taxonomyRoleLookup(() => {
      throw new Error('taxonomy file missing');
    });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    await expect(failing('Data Engineer')).resolves.toMatchObject({
      known: false,
      taxonomy: { version: null, error: 'taxonomy file missing' },
    });
    await failing('Nurse');
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('works without a taxonomy at all', () => {
    const { analysis, model } = heuristicComprehensive(base, unknownRole(base.targetRole));
    expect(model).toBe('heuristic-v1');
    expect(analysis.score).toBe(50); // the uniform prior, nothing to update it with
    expect(analysis.strengths.join(' ')).toMatch(/Python, SQL, Spark, Kubernetes/);
  });

  it('recognises common qualifications', () => {
    expect(recogniseEducation('MSc Data Science').label).toBe("master's degree");
    expect(recogniseEducation('B.Sc. Mathematics').level).toBe(3);
    expect(recogniseEducation('PhD').level).toBe(5);
    expect(recogniseEducation('self-taught').level).toBe(0);
    expect(run({ ...base, education: 'self-taught' }).analysis.recommendations.join(' ')).toMatch(
      /highest qualification/,
    );
  });

  it('bounds every item to the schema even for very long inputs', () => {
    const long = Array.from({ length: 60 }, (_, i) => `skill-${i}-${'x'.repeat(180)}`);
    const { analysis } = run({ ...base, skills: long });
    expect(() => comprehensiveAnalysisSchema.parse(analysis)).not.toThrow();
  });
});
