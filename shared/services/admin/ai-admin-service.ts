import { z } from 'zod';
import {
  contentOutputSchemas,
  templateDraft,
  type ContentOutput,
  type ContentRequest,
} from '../../domain/admin/content-templates';
import {
  dedupe,
  ENRICHMENT_FIELD,
  MAX_CV_TEXT,
  profileSkills,
  profileTitle,
  skillsInText,
} from '../../domain/admin/enrichment';
import type { AnalysisFailure } from '../../domain/analysis/schemas';
import { detectResumeFormat } from '../../domain/career/resume';
import type { JsonValue } from '../../domain/json';
import { toJsonObject } from '../../domain/json';
import type { BlobProperties, BlobStore } from '../../ports/blob-store';
import type { TextProcessor } from '../../ports/text-processor';
import type { ChatModel, ChatRequest } from '../../ports/chat-model';
import type { AnalysisService, ProviderInfo } from '../analysis-service';
import { ServiceError } from '../errors';
import { onTextWorkers } from '../text-workers';
import { MAX_RESUME_PAGES } from '../resume-service';
import { readBounded } from '../career-records';
import type { JobTitleService } from '../job-title-service';
import { askLockedProvider } from '../locked-provider';
import type { ProviderLockService } from '../provider-lock-service';
import type { SyncService } from '../sync-service';

/**
 * AI admin (issue 14 item 5): profile enrichment, the models' status, and content generation.
 *
 * Enrichment derives facts from what the bridge holds — the profile's title normalised against the
 * job-title taxonomy, the skills the profile lists plus those of the taxonomy's vocabulary that the
 * user's latest CV text names, and the language of that text — and writes them as one admin sync of
 * the field `enrichment` (so the sync rules apply and a `user_update` event is emitted). Nothing is
 * guessed: a part without a source is null, with the reason.
 *
 * Content goes to the provider holding the lock (one provider, the analyses' failover rules), and an
 * answer is used only if it matches the kind's schema. With no provider answering, the answer is a
 * template draft built from the input alone, marked `degraded: true`.
 */

/** Text shorter than this gives no language (too little to tell). */
const MIN_LANGUAGE_TEXT = 40;
/** A language guess less sure than this is not reported. */
const MIN_LANGUAGE_ACCURACY = 0.5;
const CV_NAME = /(^|[^a-z])(cv|resume|résumé|curriculum)([^a-z]|$)/i;
const TEXT_FILE = /\.(txt|text|md|markdown)$/i;
const PROFILE_TEXT_FIELDS = ['summary', 'bio', 'about', 'description', 'headline'] as const;
const MAX_LISTED_FILES = 5_000;

export interface Enrichment {
  normalizedJobTitle: string | null;
  titleId: string | null;
  family: string | null;
  seniority: string | null;
  titleConfidence: number | null;
  skills: string[];
  skillSources: { profile: string[]; cv: string[] };
  language: { code: string; confidence: number; source: 'cv' | 'profile' } | null;
  cv: { path: string; lastModified: string; read: boolean; reason?: string } | null;
}

export interface AiAdminDeps {
  sync: SyncService;
  jobTitles: JobTitleService;
  blobs: BlobStore;
  analysis: AnalysisService;
  lock: ProviderLockService;
  models: ReadonlyMap<string, ChatModel>;
  /** PDF and Word CVs are read, and languages detected, on its worker threads, off the event loop. */
  text: TextProcessor;
  /** The largest PDF or Word CV read (BRIDGE_RESUME_MAX_BYTES); a larger one is reported as not read. */
  cvMaxBytes: number;
}

export class AiAdminService {
  private vocabulary: { source: object; skills: string[] } | undefined;

  constructor(private readonly deps: AiAdminDeps) {}

  async enrich(userId: string, options: { idempotencyId?: string } = {}) {
    const profile = await this.deps.sync.get(userId);
    if (!profile) throw new ServiceError('not-found', `No user ${userId}.`);
    const title = profileTitle(profile.data);
    const analysis = title === null ? null : await this.deps.jobTitles.analyze(title, {});
    const cv = await this.latestCv(userId);
    const vocabulary = await this.skillVocabulary();
    const cvSkills = cv?.text ? skillsInText(cv.text, vocabulary) : [];
    const listed = profileSkills(profile.data);
    const enrichment: Enrichment = {
      normalizedJobTitle: analysis?.known ? analysis.normalizedTitle : null,
      titleId: analysis?.titleId ?? null,
      family: analysis?.family?.name ?? null,
      seniority: analysis?.seniority ?? null,
      titleConfidence: analysis?.known ? Math.round(analysis.confidence * 1000) / 1000 : null,
      skills: dedupe([...listed, ...cvSkills]),
      skillSources: { profile: listed, cv: cvSkills },
      language: await this.languageOf(cv?.text ?? null, profileText(profile.data)),
      cv: cv
        ? {
            path: cv.file.path,
            lastModified: cv.file.lastModified,
            read: cv.text !== null,
            ...(cv.reason ? { reason: cv.reason } : {}),
          }
        : null,
    };
    const result = await this.deps.sync.sync(
      userId,
      { data: { [ENRICHMENT_FIELD]: toJsonObject(enrichment) } },
      'admin',
      {
        mustExist: true,
        ...(options.idempotencyId !== undefined ? { idempotencyId: options.idempotencyId } : {}),
      },
    );
    return {
      userId,
      enrichment,
      version: result.version,
      changed: result.changed,
      ...(result.changed ? { event: { id: `user:${userId}:${result.version}`, type: 'user_update' } } : {}),
      notes: [
        ...(title === null
          ? ['The profile names no job title (jobTitle, title, currentTitle or position).']
          : []),
        ...(analysis && !analysis.known ? [`"${title}" is not a title the taxonomy knows.`] : []),
        ...(cv === null ? [`No CV under users/${userId}/ (a file named cv or resume).`] : []),
      ],
    };
  }

  /** The providers behind the lock: which answers now and why, each one's model, health and cooldown. */
  async modelsStatus() {
    const view = await this.deps.analysis.providers(20);
    return {
      active: view.active,
      reason: view.reason,
      since: view.since,
      manual: view.manual,
      next: view.next,
      rules: view.rules,
      providers: (view.providers as (ProviderInfo & (typeof view.providers)[number])[]).map((p) => ({
        name: p.name,
        position: p.position,
        configured: p.configured,
        active: p.active,
        model: p.model,
        structuredOutput: p.structuredOutput,
        health: p.healthy ? ('healthy' as const) : ('unhealthy' as const),
        coolingDown: p.coolingDown,
        cooldownUntil: p.cooldownUntil,
        cooldownRemainingSeconds: p.cooldownRemainingSeconds,
        consecutiveFailures: p.consecutiveFailures,
        rateLimitStreak: p.rateLimitStreak,
        lastError: p.lastError,
      })),
      recentLockEvents: view.audit,
    };
  }

  /** Content from the provider holding the lock, or a template draft from the input (degraded). */
  async generate(request: ContentRequest): Promise<{
    kind: ContentRequest['kind'];
    content: ContentOutput;
    metadata: {
      provider: string;
      model: string;
      degraded: boolean;
      failure?: AnalysisFailure;
      placeholders?: string[];
    };
  }> {
    const schema = contentOutputSchemas[request.kind] as z.ZodType<ContentOutput>;
    const answer = await askLockedProvider(this.deps.lock, this.deps.models, contentPrompt(request), (json) =>
      schema.parse(json),
    );
    if (answer.ok) {
      return {
        kind: request.kind,
        content: answer.value,
        metadata: {
          provider: answer.provider,
          model: answer.model,
          degraded: false,
          ...(answer.failure ? { failure: answer.failure } : {}),
        },
      };
    }
    const draft = templateDraft(request);
    schema.parse(draft.output); // the template keeps the same promise as a provider
    return {
      kind: request.kind,
      content: draft.output,
      metadata: {
        provider: 'template',
        model: 'template-v1',
        degraded: true,
        placeholders: draft.placeholders,
        ...(answer.failure ? { failure: answer.failure } : {}),
      },
    };
  }

  /** The user's newest file named like a CV, and its text (PDF and Word on the text workers), or why not. */
  private async latestCv(
    userId: string,
  ): Promise<{ file: BlobProperties; text: string | null; reason?: string } | null> {
    let latest: BlobProperties | undefined;
    let continuation: string | undefined;
    let seen = 0;
    do {
      const page = await this.deps.blobs.list({
        prefix: `users/${userId}/`,
        limit: 1000,
        ...(continuation ? { continuation } : {}),
      });
      for (const file of page.items) {
        const name = file.path.slice(file.path.lastIndexOf('/') + 1);
        if (CV_NAME.test(name) && (!latest || file.lastModified > latest.lastModified)) latest = file;
      }
      seen += page.items.length;
      continuation = page.continuation;
    } while (continuation && seen < MAX_LISTED_FILES);
    if (!latest) return null;
    const isText = latest.contentType.startsWith('text/') || TEXT_FILE.test(latest.path);
    if (!isText) return this.documentCv(latest);
    if (latest.size === 0) return { file: latest, text: '' };
    const content = await this.deps.blobs.read(latest.path, {
      range: { start: 0, end: Math.min(latest.size, MAX_CV_TEXT * 4) - 1 },
    });
    if (!content) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of content.body) chunks.push(Buffer.from(chunk as Uint8Array));
    return { file: latest, text: Buffer.concat(chunks).toString('utf8').slice(0, MAX_CV_TEXT) };
  }

  /** A PDF or Word CV: its text as the resume upload reads it (on the text workers), or why not. */
  private async documentCv(
    file: BlobProperties,
  ): Promise<{ file: BlobProperties; text: string | null; reason?: string }> {
    const notRead = (reason: string) => ({ file, text: null, reason });
    if (file.size > this.deps.cvMaxBytes) {
      return notRead(
        `${file.size} bytes is over the ${this.deps.cvMaxBytes}-byte limit (BRIDGE_RESUME_MAX_BYTES)`,
      );
    }
    const content = await this.deps.blobs.read(file.path);
    if (!content) return notRead('the file was removed while it was being read');
    let bytes: Buffer;
    try {
      // The file may have grown since it was listed: read no further than the limit.
      bytes = await readBounded(
        content.body as AsyncIterable<Uint8Array>,
        this.deps.cvMaxBytes,
        'CV (BRIDGE_RESUME_MAX_BYTES)',
      );
    } catch (error) {
      if (error instanceof ServiceError && error.kind === 'payload-too-large') return notRead(error.message);
      throw error;
    }
    const format = detectResumeFormat(bytes, file.contentType);
    // Text files never get here (latestCv reads them itself): only PDF and Word remain to detect.
    if (format === null)
      return notRead(`${file.contentType} is not read (PDF, Word .docx or text files only)`);
    const extracted = await onTextWorkers(
      () =>
        this.deps.text.extractDocument(bytes, format, { maxChars: MAX_CV_TEXT, maxPages: MAX_RESUME_PAGES }),
      'Too many documents are being read right now; retry shortly.',
    );
    return extracted.ok
      ? { file, text: extracted.text }
      : notRead(`${extracted.reason}: ${extracted.message}`);
  }

  /** The language of the CV text, else of the profile's free text; null when there is too little to tell. */
  private async languageOf(cvText: string | null, profileTextValue: string): Promise<Enrichment['language']> {
    const [text, source] =
      cvText !== null && cvText.trim().length >= MIN_LANGUAGE_TEXT
        ? [cvText, 'cv' as const]
        : [profileTextValue, 'profile' as const];
    if (text.trim().length < MIN_LANGUAGE_TEXT) return null;
    const best = await onTextWorkers(
      () => this.deps.text.languageCode(text),
      'Too many texts are being analysed right now; retry shortly.',
    );
    if (!best || best.accuracy < MIN_LANGUAGE_ACCURACY) return null;
    return { code: best.code, confidence: Math.round(best.accuracy * 1000) / 1000, source };
  }

  /** Every skill the taxonomy in use names, rebuilt when the taxonomy changes. */
  private async skillVocabulary(): Promise<string[]> {
    const ref = await this.deps.jobTitles.taxonomyRef();
    if (this.vocabulary?.source !== ref) {
      const { skills } = await this.deps.jobTitles.titleSkills();
      this.vocabulary = { source: ref, skills: dedupe(skills.flat()) };
    }
    return this.vocabulary.skills;
  }
}

function profileText(data: Record<string, JsonValue>): string {
  return PROFILE_TEXT_FIELDS.map((f) => data[f])
    .filter((v): v is string => typeof v === 'string')
    .join('\n');
}

const CONTENT_SYSTEM_PROMPT = [
  'You write short texts for the admin portal of a recruitment platform.',
  'Use only the facts in the input. Never invent employers, numbers, dates, qualifications or skills;',
  'where something the text needs is missing, write a bracketed placeholder such as [company].',
  'Answer with one JSON object and nothing else, matching this JSON Schema:',
  '{schema}',
].join('\n');

function contentPrompt(request: ContentRequest): ChatRequest {
  const schema = z.toJSONSchema(contentOutputSchemas[request.kind]) as Record<string, unknown>;
  return {
    messages: [
      { role: 'system', content: CONTENT_SYSTEM_PROMPT.replace('{schema}', JSON.stringify(schema)) },
      { role: 'user', content: JSON.stringify({ kind: request.kind, input: request.input }) },
    ],
    responseSchema: { name: request.kind, schema },
    maxTokens: 1200,
  };
}
