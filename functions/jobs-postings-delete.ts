import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { recordIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

/** Removes a job posting (its applications keep their snapshot of it). */
export const jobsPostingsDelete = route('jobs-postings-delete', {
  methods: ['DELETE'],
  route: 'jobs/postings/{id}',
  access: { roles: ['admin', 'service'], scope: 'jobs:postings' },
  params: z.object({ id: recordIdParam }),
  summary: 'Delete a job posting (admin, service)',
  tags: ['jobs'],
  handler: async ({ params, services }) => {
    await services.jobPostings.delete(params.id);
    return noContent();
  },
});
