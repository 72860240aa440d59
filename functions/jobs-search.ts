import { z } from 'zod';
import { REMOTE_MODES } from '../shared/domain/career/job-ranking';
import { MAX_RADIUS_KM } from '../shared/domain/analysis/schemas';
import { SENIORITY_LEVELS } from '../shared/domain/job-titles/taxonomy-schema';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/**
 * Searches the imported postings: BM25 over title (×2) and text, plus skill overlap and distance
 * (see shared/domain/career/job-ranking.ts), filtered by radius, seniority and remote mode, paginated.
 */
export const jobsSearch = route('jobs-search', {
  methods: ['POST'],
  route: 'jobs/search',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'jobs' },
  body: z
    .strictObject({
      query: z.string().trim().max(500).optional(),
      skills: z.array(z.string().trim().min(1).max(100)).max(50).optional(),
      location: z
        .union([
          z.string().trim().min(1).max(200),
          z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
        ])
        .optional(),
      radiusKm: z.number().positive().max(MAX_RADIUS_KM).optional(),
      seniority: z.array(z.enum(SENIORITY_LEVELS)).max(SENIORITY_LEVELS.length).optional(),
      remote: z.array(z.enum(REMOTE_MODES)).max(REMOTE_MODES.length).optional(),
      limit: z.number().int().min(1).max(50).default(10),
      offset: z.number().int().min(0).max(10_000).default(0),
    })
    .refine((b) => b.radiusKm === undefined || b.location !== undefined, {
      message: 'radiusKm needs a location',
      path: ['radiusKm'],
    }),
  summary: 'Search job postings (BM25 + skills + distance), filtered and paginated',
  tags: ['jobs'],
  handler: async ({ body, services }) => {
    const { query, skills, location, radiusKm, seniority, remote, limit, offset } = body;
    return ok(
      await services.jobPostings.search({
        limit,
        offset,
        ...(query !== undefined ? { query } : {}),
        ...(skills !== undefined ? { skills } : {}),
        ...(location !== undefined ? { location } : {}),
        ...(radiusKm !== undefined ? { radiusKm } : {}),
        ...(seniority !== undefined ? { seniority } : {}),
        ...(remote !== undefined ? { remote } : {}),
      }),
      { 'cache-control': 'no-store' },
    );
  },
});
