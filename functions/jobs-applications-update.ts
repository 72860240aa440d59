import { z } from 'zod';
import { APPLICATION_STATUSES } from '../shared/domain/career/applications';
import { ok } from '../shared/http/http-response';
import { recordIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { MAX_NOTE, applicationEtag } from '../shared/services/application-service';

/**
 * Moves an application along its state machine (admins), or withdraws it (anyone who may act for
 * the applicant): invalid transitions are 409, a non-admin status other than `withdrawn` is 403.
 * Each change commits an application_change event. Honours If-Match.
 */
export const jobsApplicationsUpdate = route('jobs-applications-update', {
  methods: ['PATCH'],
  route: 'jobs/applications/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'jobs' },
  params: z.object({ id: recordIdParam }),
  body: z.strictObject({
    status: z.enum(APPLICATION_STATUSES),
    note: z.string().trim().min(1).max(MAX_NOTE).optional(),
  }),
  summary: 'Change the status of an application (admin; withdraw: the applicant)',
  tags: ['jobs'],
  handler: async ({ request, params, body, services, principal }) => {
    const application = await services.applications.changeStatus(
      params.id,
      { status: body.status, ...(body.note !== undefined ? { note: body.note } : {}) },
      principal,
      request.headers.get('if-match') ?? undefined,
    );
    return ok(application, { etag: applicationEtag(application.version) });
  },
});
