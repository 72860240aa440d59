import { z } from 'zod';
import { noContent } from '../shared/http/http-response';
import { recordIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';

/** Deletes a resume, its text and its file; honours If-Match. */
export const resumesDelete = route('resumes-delete', {
  methods: ['DELETE'],
  route: 'resumes/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'resumes' },
  params: z.object({ id: recordIdParam }),
  summary: 'Delete a resume, its text and its file',
  tags: ['resumes'],
  handler: async ({ request, params, services, principal }) => {
    await services.resumes.delete(params.id, principal, request.headers.get('if-match') ?? undefined);
    return noContent();
  },
});
