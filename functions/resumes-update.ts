import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { recordIdParam } from '../shared/http/params';
import { resumeUploadOf } from '../shared/http/resume-upload';
import { rawBody, route } from '../shared/http/route';
import { resumeSchema } from '../shared/services/career-schemas';
import { resumeEtag } from '../shared/services/resume-service';

/** Replaces a resume's file (a new version, extracted again); honours If-Match. */
export const resumesUpdate = route('resumes-update', {
  methods: ['PUT'],
  route: 'resumes/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'resumes' },
  params: z.object({ id: recordIdParam }),
  query: z.object({ fileName: z.string().min(1).max(255).optional() }),
  body: rawBody(
    [
      'application/pdf',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'text/plain',
      'multipart/form-data',
    ],
    'The new file, as for POST /api/resumes.',
  ),
  summary: "Replace a resume's file: a new version, extracted again (If-Match: the resume's ETag)",
  tags: ['resumes'],
  responses: { 200: resumeSchema },
  handler: async ({ request, params, query, services, principal }) => {
    const upload = await resumeUploadOf(request, query.fileName, services.resumes.maxBytes);
    const resume = await services.resumes.replace(
      params.id,
      upload,
      principal,
      request.headers.get('if-match') ?? undefined,
    );
    return ok(resume, { etag: resumeEtag(resume.version) });
  },
});
