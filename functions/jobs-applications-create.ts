import { z } from 'zod';
import { created } from '../shared/http/http-response';
import { recordIdParam, userIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { MAX_NOTE, applicationEtag } from '../shared/services/application-service';
import { requestedUser } from '../shared/services/career-records';

/** Applies to a posting (status `applied`); a second application to the same posting is a 409. */
export const jobsApplicationsCreate = route('jobs-applications-create', {
  methods: ['POST'],
  route: 'jobs/applications',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'jobs' },
  body: z.strictObject({
    userId: userIdParam.optional(),
    postingId: recordIdParam,
    note: z.string().trim().min(1).max(MAX_NOTE).optional(),
  }),
  summary: 'Apply to a job posting (an application_change event)',
  tags: ['jobs'],
  handler: async ({ body, services, principal }) => {
    const userId = requestedUser(principal, body.userId, 'apply');
    const application = await services.applications.create(
      userId,
      { postingId: body.postingId, ...(body.note !== undefined ? { note: body.note } : {}) },
      principal,
    );
    return created(application, {
      etag: applicationEtag(application.version),
      location: `/api/jobs/applications/${application.id}`,
    });
  },
});
