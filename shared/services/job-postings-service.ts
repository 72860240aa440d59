import { z } from 'zod';
import {
  PostingCorpus,
  REMOTE_MODES,
  fieldTerms,
  matchPostings,
  searchPostings,
  type Candidate,
  type FieldTerms,
  type MatchHit,
  type RankablePosting,
  type RemoteMode,
  type SearchHit,
  type SearchQuery,
} from '../domain/career/job-ranking';
import { resolveLocation, type Gazetteer } from '../domain/analysis/geo';
import { RECORD_ID_PATTERN } from '../domain/ids';
import { normalizeTitle } from '../domain/job-titles';
import { SENIORITY_LEVELS, type Seniority } from '../domain/job-titles/taxonomy-schema';
import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentCollection, StoredDocument } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { ServiceError } from './errors';
import { principalRef, type Principal, type PrincipalRef } from './principal';
import type { SkillCatalog } from './skill-catalog';

/**
 * Job postings as documents (title, text, location, seniority, remote mode, skills), imported by
 * admins and services, searched and matched. They live in one partition, `job-postings`: one
 * document per posting (`posting:<id>`) and a `meta` document whose ETag changes with every
 * import or delete, so each instance rebuilds its in-memory BM25 corpus only when postings changed.
 * The store holds at most BRIDGE_JOB_POSTINGS_MAX postings.
 */

export const POSTINGS_PARTITION = 'job-postings';
export const POSTING_TYPE = 'job-posting';
const META_ID = 'meta';
const META_TYPE = 'job-postings-meta';
const postingDocId = (id: string) => `posting:${id}`;
/** Postings per import request. */
export const MAX_POSTINGS_PER_IMPORT = 500;
/** Characters of posting text. */
export const MAX_POSTING_TEXT = 10_000;
/** Skills listed per posting. */
export const MAX_POSTING_SKILLS = 50;
/** Postings written per transactional batch (with the meta document). */
const CHUNK = 50;
const MAX_ATTEMPTS = 20;
const LOAD_PAGE = 500;

const shortText = z.string().trim().min(1).max(200);
export const postingInputSchema = z.strictObject({
  id: z.string().regex(RECORD_ID_PATTERN, 'must be 1-255 letters, digits, ".", "_", ":", "-"').max(100),
  title: shortText,
  text: z.string().max(MAX_POSTING_TEXT),
  company: shortText.optional(),
  /** A place name ("Leeds, GB") resolved with the gazetteer, or coordinates. */
  location: z
    .union([
      shortText,
      z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
    ])
    .optional(),
  remote: z.enum(REMOTE_MODES).default('onsite'),
  seniority: z.enum(SENIORITY_LEVELS).optional(),
  skills: z.array(z.string().trim().min(1).max(100)).max(MAX_POSTING_SKILLS).optional(),
  url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
  postedAt: z.iso.datetime({ offset: true }).optional(),
});
export type PostingInput = z.output<typeof postingInputSchema>;

export interface JobPosting {
  id: string;
  title: string;
  titleId: string | null;
  normalizedTitle: string;
  family: string | null;
  seniority: Seniority | null;
  company: string | null;
  location: { name: string; country: string; lat: number; lon: number } | null;
  remote: RemoteMode;
  /** Normalised skills: the listed ones and taxonomy skills the title and text mention. */
  skills: string[];
  text: string;
  url: string | null;
  postedAt: string | null;
  importedAt: string;
  importedBy: PrincipalRef;
}

interface PostingDocument extends JobPosting {
  terms: { title: FieldTerms; text: FieldTerms };
}

export interface PostingRowReport {
  row: number;
  id: string;
  ok: boolean;
  created?: boolean;
  errors: string[];
}

export interface PostingImportReport {
  rows: PostingRowReport[];
  summary: { rows: number; stored: number; created: number; updated: number; failed: number; total: number };
}

export interface SearchRequest {
  query?: string;
  skills?: string[];
  location?: string | { lat: number; lon: number };
  radiusKm?: number;
  seniority?: Seniority[];
  remote?: RemoteMode[];
  limit: number;
  offset: number;
}

export type PublicPosting = Omit<JobPosting, 'text'> & { text?: string };

const publicPosting = ({ text, ...rest }: JobPosting, withText = false): PublicPosting =>
  withText ? { ...rest, text } : rest;

export class JobPostingsService {
  private corpus: { etag: string | null; corpus: PostingCorpus; byId: Map<string, JobPosting> } | undefined;
  private loading: Promise<{ corpus: PostingCorpus; byId: Map<string, JobPosting> }> | undefined;

  constructor(
    private readonly deps: {
      store: DocumentCollection;
      clock: Clock;
      skills: SkillCatalog;
      gazetteer: () => Gazetteer;
      maxPostings: number;
    },
  ) {}

  /** Stores the valid postings (a posting with the same id is replaced); reports every row. */
  async import(postings: readonly PostingInput[], principal: Principal): Promise<PostingImportReport> {
    const rows: PostingRowReport[] = [];
    const valid: { row: number; doc: PostingDocument }[] = [];
    const seen = new Set<string>();
    for (const [i, input] of postings.entries()) {
      const report: PostingRowReport = { row: i + 1, id: input.id, ok: false, errors: [] };
      rows.push(report);
      if (seen.has(input.id)) {
        report.errors.push('the same id appears earlier in this import');
        continue;
      }
      seen.add(input.id);
      const doc = await this.derive(input, report.errors, principal);
      if (doc) valid.push({ row: i + 1, doc });
    }
    let created = 0;
    let updated = 0;
    for (let i = 0; i < valid.length; i += CHUNK) {
      const chunk = valid.slice(i, i + CHUNK);
      const outcome = await this.writeChunk(chunk.map((c) => c.doc));
      for (const c of chunk) {
        const report = rows[c.row - 1] as PostingRowReport;
        const result = outcome.get(c.doc.id);
        if (result === 'full')
          report.errors.push(
            `the store holds at most ${this.deps.maxPostings} postings (BRIDGE_JOB_POSTINGS_MAX)`,
          );
        else {
          report.ok = true;
          report.created = result === 'created';
          if (result === 'created') created++;
          else updated++;
        }
      }
    }
    const meta = await this.deps.store.read<{ count: number }>(POSTINGS_PARTITION, META_ID);
    return {
      rows,
      summary: {
        rows: rows.length,
        stored: created + updated,
        created,
        updated,
        failed: rows.filter((r) => !r.ok).length,
        total: meta?.body.count ?? 0,
      },
    };
  }

  async get(id: string): Promise<PublicPosting> {
    const doc = await this.deps.store.read<PostingDocument>(POSTINGS_PARTITION, postingDocId(id));
    if (!doc) throw new ServiceError('not-found', `No job posting ${id}.`);
    const { terms: _terms, ...posting } = doc.body;
    return publicPosting(posting, true);
  }

  async delete(id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const [doc, meta] = await Promise.all([
        this.deps.store.read<PostingDocument>(POSTINGS_PARTITION, postingDocId(id)),
        this.deps.store.read<{ count: number }>(POSTINGS_PARTITION, META_ID),
      ]);
      if (!doc) throw new ServiceError('not-found', `No job posting ${id}.`);
      const count = Math.max(0, (meta?.body.count ?? 1) - 1);
      try {
        await this.deps.store.batch(POSTINGS_PARTITION, [
          { op: 'delete', id: postingDocId(id), ifMatch: doc.etag },
          metaOperation(meta, count, this.deps.clock.now()),
        ]);
        return;
      } catch (error) {
        await lostRace(error, attempt);
      }
    }
  }

  async search(request: SearchRequest): Promise<{
    total: number;
    offset: number;
    limit: number;
    next: number | null;
    resolvedLocation: { name: string; country: string; lat: number; lon: number } | null;
    results: (SearchHit & { posting: PublicPosting })[];
  }> {
    const { corpus, byId } = await this.load();
    const skills = request.skills
      ? (await this.deps.skills.normalize(request.skills)).map((s) => s.skill)
      : [];
    let near: SearchQuery['near'];
    let resolvedLocation = null;
    if (request.location !== undefined) {
      const place = this.place(request.location, '/location');
      resolvedLocation = place;
      near = { lat: place.lat, lon: place.lon, radiusKm: request.radiusKm ?? 50 };
    }
    const hits = searchPostings(corpus, {
      text: request.query ?? '',
      skills,
      ...(near ? { near } : {}),
      ...(request.seniority ? { seniority: request.seniority } : {}),
      ...(request.remote ? { remote: request.remote } : {}),
    });
    const page = hits.slice(request.offset, request.offset + request.limit);
    return {
      total: hits.length,
      offset: request.offset,
      limit: request.limit,
      next: request.offset + page.length < hits.length ? request.offset + page.length : null,
      resolvedLocation,
      results: page.map((hit) => ({ ...hit, posting: publicPosting(byId.get(hit.id) as JobPosting) })),
    };
  }

  async matches(
    candidate: Candidate,
    page: { limit: number; offset: number },
  ): Promise<{
    total: number;
    next: number | null;
    results: (MatchHit & { posting: PublicPosting })[];
  }> {
    const { corpus, byId } = await this.load();
    const hits = matchPostings(corpus, candidate);
    const slice = hits.slice(page.offset, page.offset + page.limit);
    return {
      total: hits.length,
      next: page.offset + slice.length < hits.length ? page.offset + slice.length : null,
      results: slice.map((hit) => ({ ...hit, posting: publicPosting(byId.get(hit.id) as JobPosting) })),
    };
  }

  /** A posting as stored (for applications); undefined when there is none. */
  async find(id: string): Promise<JobPosting | undefined> {
    const doc = await this.deps.store.read<PostingDocument>(POSTINGS_PARTITION, postingDocId(id));
    return doc?.body;
  }

  // -------------------------------------------------------------------------------------------------

  private place(location: string | { lat: number; lon: number }, path: string) {
    const resolved = resolveLocation(this.deps.gazetteer(), location);
    if (resolved === null) {
      const what = typeof location === 'string' ? `"${location}"` : 'those coordinates';
      throw new ServiceError('validation', `No place matches ${what} in the gazetteer.`, [
        { path, message: 'unknown place' },
      ]);
    }
    return {
      name: resolved.city.name,
      country: resolved.city.country,
      lat: resolved.origin.lat,
      lon: resolved.origin.lon,
    };
  }

  private async derive(
    input: PostingInput,
    errors: string[],
    principal: Principal,
  ): Promise<PostingDocument | undefined> {
    const { index } = await this.deps.skills.vocabulary();
    const match = normalizeTitle(index, input.title);
    const title = match.titleId ? index.titles.get(match.titleId) : undefined;
    let location: JobPosting['location'] = null;
    if (input.location !== undefined) {
      const resolved = resolveLocation(this.deps.gazetteer(), input.location);
      if (resolved === null)
        errors.push(`location: no place matches ${JSON.stringify(input.location)} in the gazetteer`);
      else
        location = {
          name: resolved.city.name,
          country: resolved.city.country,
          lat: resolved.origin.lat,
          lon: resolved.origin.lon,
        };
    } else if (input.remote !== 'remote') {
      errors.push('location: required unless the posting is remote');
    }
    if (errors.length > 0) return undefined;
    const listed = (await this.deps.skills.normalize(input.skills ?? [])).map((s) => s.skill);
    const mentioned = (await this.deps.skills.mentions(`${input.title}\n${input.text}`)).map((m) => m.skill);
    const skills = [...new Set([...listed, ...mentioned])].slice(0, MAX_POSTING_SKILLS);
    return {
      id: input.id,
      title: input.title,
      titleId: title?.id ?? null,
      normalizedTitle: match.normalizedTitle,
      family: title?.family ?? null,
      seniority: input.seniority ?? match.seniority ?? title?.seniority ?? null,
      company: input.company ?? null,
      location,
      remote: input.remote,
      skills,
      text: input.text,
      url: input.url ?? null,
      postedAt: input.postedAt ?? null,
      importedAt: new Date(this.deps.clock.now()).toISOString(),
      importedBy: principalRef(principal),
      terms: { title: fieldTerms(input.title), text: fieldTerms(input.text) },
    };
  }

  /** Writes one chunk with the meta document (count bounded); per id: created, updated or full. */
  private async writeChunk(docs: PostingDocument[]): Promise<Map<string, 'created' | 'updated' | 'full'>> {
    for (let attempt = 0; ; attempt++) {
      const meta = await this.deps.store.read<{ count: number }>(POSTINGS_PARTITION, META_ID);
      let count = meta?.body.count ?? 0;
      const outcome = new Map<string, 'created' | 'updated' | 'full'>();
      const ops: BatchOperation[] = [];
      for (const doc of docs) {
        const existing = await this.deps.store.read(POSTINGS_PARTITION, postingDocId(doc.id));
        if (!existing && count >= this.deps.maxPostings) {
          outcome.set(doc.id, 'full');
          continue;
        }
        if (!existing) count++;
        outcome.set(doc.id, existing ? 'updated' : 'created');
        ops.push(
          existing
            ? {
                op: 'replace',
                id: postingDocId(doc.id),
                type: POSTING_TYPE,
                body: doc,
                ifMatch: existing.etag,
              }
            : { op: 'create', id: postingDocId(doc.id), type: POSTING_TYPE, body: doc },
        );
      }
      if (ops.length === 0) return outcome;
      ops.push(metaOperation(meta, count, this.deps.clock.now()));
      try {
        await this.deps.store.batch(POSTINGS_PARTITION, ops);
        return outcome;
      } catch (error) {
        await lostRace(error, attempt);
      }
    }
  }

  /** The corpus of every stored posting, rebuilt when the meta document changed. */
  private async load(): Promise<{ corpus: PostingCorpus; byId: Map<string, JobPosting> }> {
    const meta = await this.deps.store.read(POSTINGS_PARTITION, META_ID);
    const etag = meta?.etag ?? null;
    if (this.corpus && this.corpus.etag === etag) return this.corpus;
    this.loading ??= (async () => {
      try {
        const postings: RankablePosting[] = [];
        const byId = new Map<string, JobPosting>();
        let continuation: string | undefined;
        do {
          const page = await this.deps.store.query<PostingDocument>({
            type: POSTING_TYPE,
            pk: POSTINGS_PARTITION,
            limit: LOAD_PAGE,
            ...(continuation ? { continuation } : {}),
          });
          for (const doc of page.items as StoredDocument<PostingDocument>[]) {
            const { terms, ...posting } = doc.body;
            byId.set(posting.id, posting);
            postings.push({
              id: posting.id,
              title: terms.title,
              text: terms.text,
              skills: posting.skills,
              seniority: posting.seniority,
              remote: posting.remote,
              location: posting.location,
              postedAt: posting.postedAt,
            });
          }
          continuation = page.continuation;
        } while (continuation);
        const built = { etag, corpus: new PostingCorpus(postings), byId };
        this.corpus = built;
        return built;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}

function metaOperation(
  meta: StoredDocument<{ count: number }> | undefined,
  count: number,
  now: number,
): BatchOperation {
  const body = { count, changedAt: new Date(now).toISOString() };
  return meta
    ? { op: 'replace', id: META_ID, type: META_TYPE, body, ifMatch: meta.etag }
    : { op: 'create', id: META_ID, type: META_TYPE, body };
}

async function lostRace(error: unknown, attempt: number): Promise<void> {
  const lost = isStoreError(error, 'precondition-failed') || isStoreError(error, 'conflict');
  if (!lost) throw error;
  if (attempt + 1 >= MAX_ATTEMPTS)
    throw new ServiceError('unavailable', 'Job postings are being changed concurrently; retry.');
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
}
