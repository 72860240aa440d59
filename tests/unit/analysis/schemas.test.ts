import type { z } from 'zod';
import { assessRoleFit, type RoleFitInput } from '../../../shared/domain/analysis/bayesian';
import type { GeographicAnalysis, LocationQuery } from '../../../shared/domain/analysis/geo';
import {
  analysisMetadataSchema,
  bayesianRequestSchema,
  bayesianResultSchema,
  comprehensiveRequestSchema,
  comprehensiveResultSchema,
  geographicAnalysisSchema,
  geographicRequestSchema,
  MAX_LIST_ITEMS,
  MAX_RADIUS_KM,
} from '../../../shared/domain/analysis/schemas';

// Compile-time agreement between the schemas and the domain types (checked by `tsc --noEmit`).
const _bayesianRequestFitsDomain = (r: z.output<typeof bayesianRequestSchema>): RoleFitInput => r;
const _geoLocationFitsDomain = (r: z.output<typeof geographicRequestSchema>): LocationQuery => r.location;
const _geoAnalysisFitsSchema = (a: GeographicAnalysis): z.input<typeof geographicAnalysisSchema> => a;

const paths = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  (result.error?.issues ?? []).map((i) => i.path.join('.'));

const metadata = { provider: 'openai', model: 'gpt-4o-mini', confidence: 0.8, degraded: false };

describe('metadata envelope', () => {
  it('accepts well-formed metadata, with or without a failure', () => {
    expect(analysisMetadataSchema.parse(metadata)).toEqual(metadata);
    const degraded = {
      provider: 'heuristic',
      model: 'heuristic-v1',
      confidence: 0.3,
      degraded: true,
      failure: { provider: 'openai', kind: 'rate-limit', message: '429' },
    };
    expect(analysisMetadataSchema.parse(degraded)).toEqual(degraded);
  });

  it('rejects out-of-range confidence, unknown failure kinds, missing fields', () => {
    expect(paths(analysisMetadataSchema.safeParse({ ...metadata, confidence: 1.2 }))).toEqual(['confidence']);
    expect(
      paths(
        analysisMetadataSchema.safeParse({ ...metadata, failure: { provider: 'openai', kind: 'meltdown' } }),
      ),
    ).toEqual(['failure.kind']);
    expect(
      paths(analysisMetadataSchema.safeParse({ provider: 'x', confidence: 0.5, degraded: false })),
    ).toEqual(['model']);
  });
});

describe('comprehensive analysis', () => {
  const request = {
    skills: ['TypeScript', 'Azure'],
    experienceYears: 4,
    education: 'BSc Computer Science',
    targetRole: 'Backend Engineer',
  };

  it('request: valid, trimmed, optional text; bad values named by path', () => {
    expect(
      comprehensiveRequestSchema.parse({ ...request, targetRole: '  Backend Engineer ' }).targetRole,
    ).toBe('Backend Engineer');
    expect(comprehensiveRequestSchema.safeParse({ ...request, text: 'CV text' }).success).toBe(true);
    expect(
      paths(comprehensiveRequestSchema.safeParse({ ...request, experienceYears: -1, skills: ['ok', ''] })),
    ).toEqual(['skills.1', 'experienceYears']);
    expect(
      paths(
        comprehensiveRequestSchema.safeParse({ ...request, skills: Array(MAX_LIST_ITEMS + 1).fill('x') }),
      ),
    ).toEqual(['skills']);
    expect(paths(comprehensiveRequestSchema.safeParse({ ...request, extra: 1 }))).toEqual(['']);
  });

  it('result: score within 0–100, wrapped with metadata', () => {
    const result = {
      score: 72,
      strengths: ['Strong TypeScript'],
      gaps: ['No Kubernetes'],
      recommendations: ['Learn AKS'],
      matchedSkills: ['TypeScript'],
      missingSkills: ['Kubernetes'],
    };
    expect(comprehensiveResultSchema.safeParse({ result, metadata }).success).toBe(true);
    expect(
      paths(comprehensiveResultSchema.safeParse({ result: { ...result, score: 101 }, metadata })),
    ).toEqual(['result.score']);
    expect(paths(comprehensiveResultSchema.safeParse({ result }))).toEqual(['metadata']);
  });
});

describe('geographic request', () => {
  it('accepts a name or coordinates with a radius in bounds', () => {
    expect(geographicRequestSchema.safeParse({ location: 'Paris, FR', radiusKm: 25 }).success).toBe(true);
    expect(
      geographicRequestSchema.safeParse({ location: { lat: 48.8, lon: 2.3 }, radiusKm: 25, limit: 10 })
        .success,
    ).toBe(true);
  });

  it.each([
    [{ location: '', radiusKm: 25 }, 'location'],
    [{ location: { lat: 91, lon: 0 }, radiusKm: 25 }, 'location.lat'],
    [{ location: 'Paris', radiusKm: 0 }, 'radiusKm'],
    [{ location: 'Paris', radiusKm: MAX_RADIUS_KM + 1 }, 'radiusKm'],
    [{ location: 'Paris', radiusKm: 10, limit: 0 }, 'limit'],
    [{ location: 'Paris', radiusKm: 10, country: 'FRA' }, 'country'],
  ])('rejects %j at %s', (body, path) => {
    expect(paths(geographicRequestSchema.safeParse(body))).toContain(path);
  });
});

describe('bayesian', () => {
  const profile = {
    skillsMatched: 7,
    skillsRequired: 10,
    experienceYears: 3,
    requiredExperienceYears: 5,
    educationMatch: 'meets',
  };

  it('request: valid profile, educationMatch defaults to unknown', () => {
    const parsed = bayesianRequestSchema.parse({
      role: 'Data Scientist',
      profile: { ...profile, educationMatch: undefined },
    });
    expect(parsed.profile.educationMatch).toBe('unknown');
  });

  it('request: matched > required and bad numbers are named', () => {
    expect(
      paths(bayesianRequestSchema.safeParse({ role: 'x', profile: { ...profile, skillsMatched: 11 } })),
    ).toEqual(['profile.skillsMatched']);
    expect(
      paths(
        bayesianRequestSchema.safeParse({
          role: 'x',
          profile: { ...profile, skillsRequired: 2.5, experienceYears: -1 },
        }),
      ),
    ).toEqual(['profile.skillsRequired', 'profile.experienceYears']);
    expect(paths(bayesianRequestSchema.safeParse({ profile }))).toEqual(['role']);
  });

  it('the domain result, wrapped with metadata, satisfies the result schema', () => {
    const request = bayesianRequestSchema.parse({ role: 'Data Scientist', roleFamily: 'data', profile });
    const result = assessRoleFit(request);
    expect(bayesianResultSchema.safeParse({ result, metadata }).success).toBe(true);
    expect(
      paths(
        bayesianResultSchema.safeParse({ result: { ...result, credibleInterval: [0.9, 0.1] }, metadata }),
      ),
    ).toEqual(['result.credibleInterval']);
  });
});
