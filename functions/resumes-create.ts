import { z } from 'zod';
import { created } from '../shared/http/http-response';
import { userIdParam } from '../shared/http/params';
import { resumeUploadOf } from '../shared/http/resume-upload';
import { rawBody, route } from '../shared/http/route';
import { validationProblem } from '../shared/http/validation';
import { requestedUser } from '../shared/services/career-records';
import { resumeSchema } from '../shared/services/career-schemas';
import { resumeEtag } from '../shared/services/resume-service';

/**
 * Uploads a resume (PDF, DOCX or UTF-8 text, up to BRIDGE_RESUME_MAX_BYTES): stored under
 * users/{userId}/resumes/, its text extracted off the event loop, sections and skills parsed.
 * A file whose text cannot be read (corrupt, encrypted, image-only) is a 422 and nothing is stored.
 */
export const resumesCreate = route('resumes-create', {
  methods: ['POST'],
  route: 'resumes',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'resumes' },
  query: z.object({
    userId: userIdParam.optional(),
    fileName: z.string().min(1).max(255).optional(),
  }),
  body: rawBody(
    [
      'application/pdf',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'text/plain',
      'multipart/form-data',
    ],
    'The resume file with its own content type, or multipart/form-data with the file in the field "file".',
  ),
  summary: 'Upload a resume: text extracted, sections, skills normalised against the taxonomy, language',
  tags: ['resumes'],
  responses: { 201: resumeSchema },
  handler: async ({ request, query, services, principal }) => {
    const userId = requestedUser(principal, query.userId, 'upload a resume');
    const upload = await resumeUploadOf(request, query.fileName, services.resumes.maxBytes);
    if (upload.fileName === undefined) {
      throw validationProblem([
        { path: 'fileName', message: 'is required (in ?fileName= or the multipart file)' },
      ]);
    }
    const resume = await services.resumes.create(userId, { ...upload, fileName: upload.fileName }, principal);
    return created(resume, { etag: resumeEtag(resume.version), location: `/api/resumes/${resume.id}` });
  },
});
