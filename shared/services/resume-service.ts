import type { EventLimits } from './event-outbox';
import type { PendingEvent } from '../domain/cloud-event';
import {
  RESUME_CONTENT_TYPES,
  detectResumeFormat,
  type ResumeFormat,
  type ResumeSection,
} from '../domain/career/resume';
import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentCollection, StoredDocument } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { LanguageGuess, TextProcessor } from '../ports/text-processor';
import { mayActForUser } from './access-policy';
import { careerEventSource, careerPartition, newRecordId, readBounded } from './career-records';
import { ServiceError } from './errors';
import { onTextWorkers } from './text-workers';
import { outboxOperation, toOutboxItem } from './event-outbox';
import type { FileService } from './file-service';
import { principalRef, type Principal, type PrincipalRef } from './principal';
import type { SkillCatalog } from './skill-catalog';
import type { CommitListener } from './sync-service';

/**
 * Resumes: a file (PDF, DOCX or UTF-8 text) stored under the user's file area, its text read on
 * the worker pool, split into sections, its skills normalised against the taxonomy and its
 * language detected.
 *
 * Write order: the file is read (at most maxBytes) and its text extracted first, so a file that
 * cannot be read (corrupt, encrypted, image-only, not UTF-8, too slow) is a 422 and nothing is
 * stored. Then the file goes to the blob store, then ONE batch in the user's career partition
 * writes the resume, its text, the user's resume index (conditional on its ETag: at most
 * MAX_RESUMES_PER_USER) and the `resume_change` event. If that batch fails the file is removed
 * again; a crash between the two leaves at worst an unreferenced file, never a resume without its
 * file or event.
 */

export const RESUME_TYPE = 'resume';
export const RESUME_TEXT_TYPE = 'resume-text';
export const RESUME_INDEX_TYPE = 'resume-index';
export const RESUME_EVENT_TYPE = 'resume_change';
/** Resumes kept per user. */
export const MAX_RESUMES_PER_USER = 20;
/** Characters of text kept per resume (≈ 40 pages of prose); the rest is cut, `truncated` says so. */
export const MAX_RESUME_TEXT_CHARS = 100_000;
/** PDF pages read per resume. */
export const MAX_RESUME_PAGES = 20;
/** Longest file name kept (characters). */
export const MAX_FILE_NAME = 255;
/** Skills kept per resume. */
const MAX_RESUME_SKILLS = 200;

const INDEX_ID = 'resumes';
const resumeDocId = (id: string) => `resume:${id}`;
const textDocId = (id: string) => `resume-text:${id}`;
const MAX_ATTEMPTS = 20;

export interface ResumeSkill {
  skill: string;
  /** Where it was found: the skills section, or only in the rest of the text. */
  source: 'skills-section' | 'text';
  /** Mentions in the whole text. */
  mentions: number;
}

export interface Resume {
  id: string;
  userId: string;
  fileName: string;
  contentType: string;
  format: ResumeFormat;
  bytes: number;
  pages?: number;
  textExtracted: true;
  language: LanguageGuess;
  sections: { header: string[]; sections: ResumeSection[] };
  skills: ResumeSkill[];
  /** Items of the skills section that name no taxonomy skill (kept as written, cleaned). */
  unrecognizedSkills: string[];
  extractedChars: number;
  truncated: boolean;
  /** Where the file is: GET /api/files/{filePath}. */
  filePath: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: PrincipalRef;
}

interface ResumeIndex {
  userId: string;
  /** Resume ids, most recently written first. */
  ids: string[];
}

export interface ResumeUpload {
  fileName: string;
  contentType: string | null;
  body: AsyncIterable<Uint8Array> | null;
}

export interface ResumeServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  files: FileService;
  text: TextProcessor;
  skills: SkillCatalog;
  options: { maxBytes: number; events: EventLimits };
  onCommit?: CommitListener;
}

export class ResumeService {
  constructor(private readonly deps: ResumeServiceDeps) {}

  get maxBytes(): number {
    return this.deps.options.maxBytes;
  }

  async create(userId: string, upload: ResumeUpload, principal: Principal): Promise<Resume> {
    const fileName = checkFileName(upload.fileName);
    const read = await this.read(upload);
    const pk = careerPartition(userId);
    const id = newRecordId('res');
    const now = new Date(this.deps.clock.now()).toISOString();
    const filePath = blobPath(userId, id, 1, fileName);
    const resume: Resume = {
      id,
      userId,
      fileName,
      ...read.resume,
      filePath,
      version: 1,
      createdAt: now,
      updatedAt: now,
      createdBy: principalRef(principal),
    };
    await this.storeFile(filePath, resume.contentType, read.bytes);
    try {
      for (let attempt = 0; ; attempt++) {
        const index = await this.deps.store.read<ResumeIndex>(pk, INDEX_ID);
        const ids = index?.body.ids ?? [];
        if (ids.length >= MAX_RESUMES_PER_USER) {
          throw new ServiceError(
            'conflict',
            `User ${userId} already has ${MAX_RESUMES_PER_USER} resumes (the most kept); delete one first.`,
          );
        }
        const ops: BatchOperation[] = [
          indexOperation(index, { userId, ids: [id, ...ids] }),
          { op: 'create', id: resumeDocId(id), type: RESUME_TYPE, body: resume },
          {
            op: 'create',
            id: textDocId(id),
            type: RESUME_TEXT_TYPE,
            body: { resumeId: id, text: read.text },
          },
        ];
        if (await this.commit(pk, ops, this.event(resume, 'created'), attempt)) return resume;
      }
    } catch (error) {
      await this.deps.files.delete(filePath).catch(() => undefined);
      throw error;
    }
  }

  /** A user's resumes, most recently written first. */
  async list(userId: string): Promise<Resume[]> {
    const pk = careerPartition(userId);
    const index = await this.deps.store.read<ResumeIndex>(pk, INDEX_ID);
    const out: Resume[] = [];
    for (const id of index?.body.ids ?? []) {
      const doc = await this.deps.store.read<Resume>(pk, resumeDocId(id));
      if (doc) out.push(doc.body);
    }
    return out;
  }

  /** The most recently written resume with its text, or undefined. */
  async latest(userId: string): Promise<{ resume: Resume; text: string } | undefined> {
    const [resume] = await this.list(userId);
    if (!resume) return undefined;
    const text = await this.deps.store.read<{ text: string }>(careerPartition(userId), textDocId(resume.id));
    return { resume, text: text?.body.text ?? '' };
  }

  /** One resume (with its text when asked); 404 when it does not exist or the caller may not see it. */
  async get(
    id: string,
    principal: Principal,
    options: { text?: boolean } = {},
  ): Promise<Resume & { text?: string }> {
    const doc = await this.find(id, principal);
    if (!options.text) return doc.body;
    const text = await this.deps.store.read<{ text: string }>(doc.pk, textDocId(id));
    return { ...doc.body, text: text?.body.text ?? '' };
  }

  /** Replaces the file: read, extracted and stored again as a new version. */
  async replace(
    id: string,
    upload: Omit<ResumeUpload, 'fileName'> & { fileName?: string },
    principal: Principal,
    ifMatch?: string,
  ): Promise<Resume> {
    const current = await this.find(id, principal);
    checkIfMatch(ifMatch, current.body.version);
    const fileName = upload.fileName !== undefined ? checkFileName(upload.fileName) : current.body.fileName;
    const read = await this.read({ ...upload, fileName });
    const { userId } = current.body;
    const pk = current.pk;
    const version = current.body.version + 1;
    const filePath = blobPath(userId, id, version, fileName);
    const resume: Resume = {
      ...current.body,
      ...read.resume,
      fileName,
      filePath,
      version,
      updatedAt: new Date(this.deps.clock.now()).toISOString(),
    };
    await this.storeFile(filePath, resume.contentType, read.bytes);
    try {
      const index = await this.deps.store.read<ResumeIndex>(pk, INDEX_ID);
      const ids = [id, ...(index?.body.ids ?? []).filter((x) => x !== id)];
      const ops: BatchOperation[] = [
        indexOperation(index, { userId, ids }),
        { op: 'replace', id: resumeDocId(id), type: RESUME_TYPE, body: resume, ifMatch: current.etag },
        { op: 'upsert', id: textDocId(id), type: RESUME_TEXT_TYPE, body: { resumeId: id, text: read.text } },
      ];
      if (!(await this.commit(pk, ops, this.event(resume, 'updated'), MAX_ATTEMPTS))) {
        throw new ServiceError('conflict', `Resume ${id} was changed meanwhile; read it again and retry.`);
      }
    } catch (error) {
      await this.deps.files.delete(filePath).catch(() => undefined);
      throw error;
    }
    await this.deps.files.delete(current.body.filePath).catch(() => undefined);
    return resume;
  }

  async delete(id: string, principal: Principal, ifMatch?: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.find(id, principal);
      checkIfMatch(ifMatch, current.body.version);
      const index = await this.deps.store.read<ResumeIndex>(current.pk, INDEX_ID);
      const ops: BatchOperation[] = [
        indexOperation(index, {
          userId: current.body.userId,
          ids: (index?.body.ids ?? []).filter((x) => x !== id),
        }),
        { op: 'delete', id: resumeDocId(id), ifMatch: current.etag },
        { op: 'delete', id: textDocId(id) },
      ];
      const gone = { ...current.body, version: current.body.version + 1 };
      if (await this.commit(current.pk, ops, this.event(gone, 'deleted'), attempt)) {
        // After the commit: a crash here leaves an unreferenced file, never a resume without one.
        await this.deps.files.delete(current.body.filePath).catch(() => undefined);
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------------

  private async find(id: string, principal: Principal): Promise<StoredDocument<Resume>> {
    const page = await this.deps.store.query<Resume>({ type: RESUME_TYPE, where: { id }, limit: 1 });
    const doc = page.items[0];
    // Someone else's resume does not exist for this caller.
    if (!doc || !mayActForUser(principal, doc.body.userId)) {
      throw new ServiceError('not-found', `No resume ${id}.`);
    }
    return doc;
  }

  /** Reads the upload, checks its format and extracts its text: 413, 415 or 422 before anything is stored. */
  private async read(upload: ResumeUpload): Promise<{
    bytes: Buffer;
    text: string;
    resume: Pick<
      Resume,
      | 'contentType'
      | 'format'
      | 'bytes'
      | 'pages'
      | 'textExtracted'
      | 'language'
      | 'sections'
      | 'skills'
      | 'unrecognizedSkills'
      | 'extractedChars'
      | 'truncated'
    >;
  }> {
    const bytes = await readBounded(
      upload.body,
      this.deps.options.maxBytes,
      'resume (BRIDGE_RESUME_MAX_BYTES)',
    );
    if (bytes.length === 0)
      throw new ServiceError('validation', 'The resume is empty.', [{ path: 'body', message: 'is empty' }]);
    const format = detectResumeFormat(bytes, upload.contentType);
    if (format === null) {
      throw new ServiceError(
        'unsupported-media-type',
        'A resume is a PDF, a DOCX document or UTF-8 text (text/plain); the content is none of these.',
      );
    }
    const extracted = await onTextWorkers(
      () =>
        this.deps.text.extractDocument(bytes, format, {
          maxChars: MAX_RESUME_TEXT_CHARS,
          maxPages: MAX_RESUME_PAGES,
        }),
      'Too many documents are being read right now; retry shortly.',
    );
    if (!extracted.ok) {
      throw new ServiceError('unprocessable', extracted.message, [
        { path: 'body', message: `${extracted.reason}: ${extracted.message}` },
      ]);
    }
    const sectionSkills = await this.deps.skills.normalize(extracted.sections.skillItems);
    const mentions = await this.deps.skills.mentions(extracted.text);
    const mentionCount = new Map(mentions.map((m) => [m.skill, m.count]));
    const listed = new Set(sectionSkills.filter((s) => s.known).map((s) => s.skill));
    const skills: ResumeSkill[] = [
      ...[...listed].map((skill) => ({
        skill,
        source: 'skills-section' as const,
        mentions: mentionCount.get(skill) ?? 0,
      })),
      ...mentions
        .filter((m) => !listed.has(m.skill))
        .map((m) => ({ skill: m.skill, source: 'text' as const, mentions: m.count })),
    ].slice(0, MAX_RESUME_SKILLS);
    return {
      bytes,
      text: extracted.text,
      resume: {
        contentType: RESUME_CONTENT_TYPES[format],
        format,
        bytes: bytes.length,
        ...(extracted.pages !== undefined ? { pages: extracted.pages } : {}),
        textExtracted: true,
        language: extracted.language,
        sections: { header: extracted.sections.header, sections: extracted.sections.sections },
        skills,
        unrecognizedSkills: sectionSkills
          .filter((s) => !s.known)
          .map((s) => s.skill)
          .slice(0, MAX_RESUME_SKILLS),
        extractedChars: extracted.extractedChars,
        truncated: extracted.truncated,
      },
    };
  }

  private async storeFile(path: string, contentType: string, bytes: Buffer): Promise<void> {
    await this.deps.files.put(path, {
      contentType,
      contentLength: String(bytes.length),
      body: (async function* () {
        yield bytes;
      })(),
    });
  }

  private event(resume: Resume, action: 'created' | 'updated' | 'deleted'): PendingEvent {
    return {
      specversion: '1.0',
      id: `resume:${resume.id}:${resume.version}`,
      source: careerEventSource(resume.userId),
      type: RESUME_EVENT_TYPE,
      subject: resume.userId,
      time: new Date(this.deps.clock.now()).toISOString(),
      datacontenttype: 'application/json',
      data: {
        action,
        resumeId: resume.id,
        userId: resume.userId,
        version: resume.version,
        fileName: resume.fileName,
        format: resume.format,
        language: resume.language.language,
        skills: resume.skills.length,
      },
    };
  }

  /** Commits ops + the event; false when an optimistic-concurrency race was lost (retry). */
  private async commit(
    pk: string,
    ops: BatchOperation[],
    event: PendingEvent,
    attempt: number,
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    const eventOp = outboxOperation(event.id, event, now, this.deps.options.events);
    try {
      const results = await this.deps.store.batch(pk, [...ops, eventOp]);
      const item = toOutboxItem(pk, eventOp, results[ops.length]?.seq);
      if (item) this.deps.onCommit?.([item]);
      return true;
    } catch (error) {
      const lost =
        isStoreError(error, 'precondition-failed') ||
        isStoreError(error, 'conflict') ||
        isStoreError(error, 'not-found');
      if (!lost) throw error;
      if (attempt + 1 >= MAX_ATTEMPTS) {
        throw new ServiceError(
          'unavailable',
          'The resumes of this user are being changed concurrently; retry.',
        );
      }
      return false;
    }
  }
}

function indexOperation(current: StoredDocument<ResumeIndex> | undefined, body: ResumeIndex): BatchOperation {
  return current
    ? { op: 'replace', id: INDEX_ID, type: RESUME_INDEX_TYPE, body, ifMatch: current.etag }
    : { op: 'create', id: INDEX_ID, type: RESUME_INDEX_TYPE, body };
}

/** A display name: 1-255 characters without control characters or path separators. */
function checkFileName(raw: string): string {
  const name = raw.trim();
  // eslint-disable-next-line no-control-regex -- a file name with control characters is refused
  if (name.length === 0 || name.length > MAX_FILE_NAME || /[\u0000-\u001f\u007f/\\]/.test(name)) {
    throw new ServiceError('validation', 'Invalid fileName.', [
      {
        path: 'fileName',
        message: `must be 1-${MAX_FILE_NAME} characters without control characters, / or \\`,
      },
    ]);
  }
  return name;
}

/** Where a version of a resume's file is stored: users/<userId>/resumes/<id>/v<version>-<safe name>. */
function blobPath(userId: string, id: string, version: number, fileName: string): string {
  const safe =
    fileName
      .replace(/[^A-Za-z0-9._@-]+/g, '-')
      .replace(/^[.-]+/, '')
      .slice(0, 200) || 'resume';
  return `users/${userId}/resumes/${id}/v${version}-${safe}`;
}

function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  if (ifMatch.trim().replace(/^W\//, '') !== resumeEtag(version)) {
    throw new ServiceError(
      'precondition-failed',
      `The resume is at version ${version}; If-Match does not hold.`,
    );
  }
}

/** The ETag of a resume version (sent with GET, honoured by If-Match on PUT and DELETE). */
export const resumeEtag = (version: number) => `"v${version}"`;
