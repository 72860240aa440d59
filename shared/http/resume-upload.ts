import type { HttpRequest } from '@azure/functions';
import type { ResumeUpload } from '../services/resume-service';
import { ProblemError } from './problem-error';
import { validationProblem } from './validation';

/**
 * A resume upload as the request carries it: the raw file with its own content type (the file name
 * in `?fileName=`), or `multipart/form-data` with the file in the field `file` (its own name and
 * type). A declared content-length over `maxBytes` is refused before reading (413).
 */
export async function resumeUploadOf(
  request: HttpRequest,
  fileName: string | undefined,
  maxBytes: number,
): Promise<Omit<ResumeUpload, 'fileName'> & { fileName: string | undefined }> {
  const declared = request.headers.get('content-length');
  // Multipart framing adds a little; the file itself is checked against maxBytes when read.
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes + 64 * 1024) {
    throw new ProblemError({
      status: 413,
      type: 'payload-too-large',
      title: 'Payload too large',
      detail: `A resume may be at most ${maxBytes} bytes (BRIDGE_RESUME_MAX_BYTES).`,
    });
  }
  const contentType = request.headers.get('content-type');
  if (contentType !== null && /^multipart\/form-data\b/i.test(contentType.trim())) {
    let form: Awaited<ReturnType<HttpRequest['formData']>>;
    try {
      form = await request.formData();
    } catch (error) {
      throw validationProblem([
        { path: 'body', message: `not a readable multipart body: ${(error as Error).message}` },
      ]);
    }
    const file = form.get('file');
    if (file === null || typeof file === 'string') {
      throw validationProblem([
        { path: 'file', message: 'a multipart upload carries the resume in the field "file"' },
      ]);
    }
    return {
      fileName: fileName ?? (file.name || undefined),
      contentType: file.type || null,
      body: file.stream() as unknown as AsyncIterable<Uint8Array>,
    };
  }
  return {
    fileName,
    contentType,
    body: request.body as AsyncIterable<Uint8Array> | null,
  };
}
