import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { recordIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { applicationEtag } from '../shared/services/application-service';

/** One application with its status history; 404 for another user's. */
export const jobsApplicationsGet = route('jobs-applications-get', {
  methods: ['GET'],
  route: 'jobs/applications/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'jobs' },
  params: z.object({ id: recordIdParam }),
  summary: 'Read a job application and its history',
  tags: ['jobs'],
  handler: async ({ params, services, principal }) => {
    const application = await services.applications.get(params.id, principal);
    return ok(application, { etag: applicationEtag(application.version), 'cache-control': 'no-store' });
  },
});
