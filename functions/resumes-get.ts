import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { recordIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { resumeSchema } from '../shared/services/career-schemas';
import { resumeEtag } from '../shared/services/resume-service';

/** One resume; `?include=text` adds its extracted text. 404 for another user's resume. */
export const resumesGet = route('resumes-get', {
  methods: ['GET'],
  route: 'resumes/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'resumes' },
  params: z.object({ id: recordIdParam }),
  query: z.object({ include: z.enum(['text'], 'must be text').optional() }),
  summary: 'Read a resume (sections, skills, language; ?include=text for its text)',
  tags: ['resumes'],
  responses: { 200: resumeSchema },
  handler: async ({ params, query, services, principal }) => {
    const resume = await services.resumes.get(params.id, principal, { text: query.include === 'text' });
    return ok(resume, { etag: resumeEtag(resume.version), 'cache-control': 'no-store' });
  },
});
