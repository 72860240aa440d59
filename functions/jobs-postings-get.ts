import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { recordIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

/** One job posting with its text. */
export const jobsPostingsGet = route('jobs-postings-get', {
  methods: ['GET'],
  route: 'jobs/postings/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'jobs' },
  params: z.object({ id: recordIdParam }),
  summary: 'Read a job posting',
  tags: ['jobs'],
  handler: async ({ params, services }) => ok(await services.jobPostings.get(params.id)),
});
