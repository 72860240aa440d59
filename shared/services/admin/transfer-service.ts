import { randomUUID } from 'node:crypto';
import { createGzip } from 'node:zlib';
import {
  EXPORT_FORMAT,
  EXPORT_VERSION,
  MAX_LINE_BYTES,
  parseImportLine,
} from '../../domain/admin/export-format';
import { withSequence, type EventDocumentBody } from '../../domain/cloud-event';
import type { UserProfile } from '../../domain/user-profile';
import { isBlobStoreError, type BlobDownloadLink, type BlobStore } from '../../ports/blob-store';
import type { Clock } from '../../ports/clock';
import { isStoreError, type DocumentCollection, type StoredDocument } from '../../ports/document-store';
import type { CommandService } from '../command-service';
import { ServiceError } from '../errors';
import { principalRef, type Principal } from '../principal';
import type { SyncService } from '../sync-service';
import {
  acquireLease,
  JOB_DOC_ID,
  JOB_TTL_SECONDS,
  JOB_TYPE,
  leaseMsFor,
  SLICE_MS,
  iso,
  jobIdFor,
  jobPartition,
  jobView,
  newHeader,
  replayOrConflict,
  requestHashOf,
  writeHeader,
  type JobHeader,
} from './admin-jobs';
import { maybeGunzip, ndjsonLines, through } from './ndjson';

/**
 * Export and import of users (issue 14 item 3), as admin jobs run from the command queue.
 *
 * Export: every live profile (and, when asked, every user event still within retention) as gzip
 * NDJSON (export-format.ts) streamed from store pages through gzip into the blob store: memory
 * stays at one page whatever the number of users. The file is `exports/<id>/users.ndjson.gz` in the
 * files store; its download link is made when asked for (BlobStore.downloadUrl). A run that dies is
 * run again from the start by the next delivery or the sweeper (the file is replaced whole).
 *
 * Import: the lines of such a file (or any NDJSON file in the files store, gzip or not), each
 * checked (export-format.ts) and applied as an admin sync, so the sync rules and events apply. Each
 * line's write is named `<importId>:<line>` (the sync's idempotency marker), and progress — lines
 * done, counts, rejected lines with reasons — is checkpointed with the header every chunk: a run
 * that dies resumes after the last checkpoint, and a line applied again returns what it did the
 * first time. A second import of the same file changes nothing (every line is unchanged). One
 * invocation works for at most SLICE_MS, then hands over to a continuation message.
 */

const EXPORT_PAGE = 500;
const IMPORT_CHUNK = 96;
const IMPORT_PARALLEL_USERS = 16;
/** Rejected lines listed in an import's report; beyond this they are counted only. */
export const MAX_LISTED_REJECTIONS = 10_000;
const REJECTION_TYPE = 'admin-import-rejection';
const rejectionId = (line: number) => `rej:${String(line).padStart(10, '0')}`;
/** Runs of a job that failed for infrastructure reasons before the job is marked failed. */
const MAX_RUNS = 5;

export interface ExportHeader extends JobHeader {
  kind: 'export';
  includeEvents: boolean;
  path: string;
  users: number;
  events: number;
  bytes: number;
}

export interface ImportCounts {
  /** Valid user lines whose write changed the profile. */
  changed: number;
  /** Valid user lines that changed nothing (the profile already had those values). */
  unchanged: number;
  /** Header, event and empty lines. */
  skipped: number;
  rejected: number;
}

export interface ImportHeader extends JobHeader {
  kind: 'import';
  path: string;
  /** The file's ETag when the import was created: a file changed since then is not imported. */
  etag: string;
  bytes: number;
  linesDone: number;
  counts: ImportCounts;
}

export interface TransferOptions {
  /** Lifetime of an export's download link. */
  linkSeconds: number;
  /** The most lines one import reads. */
  importMaxLines: number;
  /** BRIDGE_ADMIN_JOB_STALL_SECONDS: the lease a run holds follows it (leaseMsFor). */
  stallMs: number;
}

export interface TransferServiceDeps {
  store: DocumentCollection;
  blobs: BlobStore;
  clock: Clock;
  sync: SyncService;
  commands: CommandService;
  options: TransferOptions;
  log?: (message: string) => void;
}

class LeaseLost extends Error {}

export class TransferService {
  private readonly store: DocumentCollection;
  private readonly blobs: BlobStore;
  private readonly clock: Clock;
  private readonly sync: SyncService;
  private readonly commands: CommandService;
  private readonly options: TransferOptions;
  private readonly log: (message: string) => void;
  private readonly leaseMs: number;

  constructor(deps: TransferServiceDeps) {
    this.leaseMs = leaseMsFor(deps.options.stallMs);
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.clock = deps.clock;
    this.sync = deps.sync;
    this.commands = deps.commands;
    this.options = deps.options;
    this.log = deps.log ?? (() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Export

  async createExport(
    request: { includeEvents?: boolean; clientId?: string },
    principal: Principal,
  ): Promise<{ job: ExportHeader; duplicate: boolean }> {
    const includeEvents = request.includeEvents ?? false;
    const id = jobIdFor('export', principal, request.clientId);
    const pk = jobPartition('export', id);
    const requestHash = requestHashOf({ includeEvents });
    const header: ExportHeader = {
      ...newHeader('export', id, principal, requestHash, this.clock.now(), request.clientId),
      kind: 'export',
      includeEvents,
      path: `exports/${id}/users.ndjson.gz`,
      users: 0,
      events: 0,
      bytes: 0,
    };
    const created = await this.createHeader(pk, header);
    if (created.duplicate) return created;
    await this.start('export', id, principal);
    return created;
  }

  async getExport(id: string): Promise<(ExportHeader & { link?: BlobDownloadLink }) | undefined> {
    const doc = await this.store.read<ExportHeader>(jobPartition('export', id), JOB_DOC_ID);
    if (!doc) return undefined;
    if (doc.body.status !== 'succeeded') return doc.body;
    const link = await this.blobs.downloadUrl(doc.body.path, { expiresInSeconds: this.options.linkSeconds });
    return { ...doc.body, link };
  }

  exportView(h: ExportHeader) {
    return {
      ...jobView(h),
      includeEvents: h.includeEvents,
      path: h.path,
      users: h.users,
      events: h.events,
      bytes: h.bytes,
    };
  }

  /** Takes the job's lease and marks it running (one more attempt); see acquireLease. */
  private startJob<H extends JobHeader>(pk: string, owner: string) {
    return acquireLease<H>(this.store, pk, owner, this.clock, this.leaseMs, (h, now) => ({
      ...h,
      status: 'running',
      startedAt: h.startedAt ?? iso(now),
      attempts: h.attempts + 1,
    }));
  }

  async runExport(id: string): Promise<void> {
    const pk = jobPartition('export', id);
    const owner = randomUUID();
    const lease = await this.startJob<ExportHeader>(pk, owner);
    if (lease.kind !== 'acquired') return;
    let doc = lease.doc;
    const counts = { users: 0, events: 0 };
    let beat = this.clock.now();
    const heartbeat = async () => {
      const now = this.clock.now();
      if (now - beat < this.leaseMs / 4) return;
      beat = now;
      doc = await this.renew(pk, doc, owner);
    };
    try {
      const gzip = through(this.exportLines(doc.body, counts, heartbeat), createGzip());
      const { properties } = await this.blobs.put(doc.body.path, gzip, {
        contentType: 'application/gzip',
        maxBytes: Number.MAX_SAFE_INTEGER,
      });
      const now = this.clock.now();
      const { lease: _lease, ...rest } = doc.body;
      await writeHeader(this.store, pk, doc, {
        ...rest,
        status: 'succeeded',
        finishedAt: iso(now),
        updatedAt: iso(now),
        users: counts.users,
        events: counts.events,
        bytes: properties.size,
      });
    } catch (error) {
      await this.afterFailure(pk, doc, error);
    }
  }

  private async *exportLines(
    header: ExportHeader,
    counts: { users: number; events: number },
    heartbeat: () => Promise<void>,
  ): AsyncGenerator<string> {
    yield `${JSON.stringify({
      kind: 'header',
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exportedAt: iso(this.clock.now()),
      includeEvents: header.includeEvents,
    })}\n`;
    let continuation: string | undefined;
    do {
      const page = await this.store.query<UserProfile>({
        type: 'user',
        conditions: [{ path: ['deleted'], op: 'ne', value: true }],
        limit: EXPORT_PAGE,
        ...(continuation ? { continuation } : {}),
      });
      let text = '';
      for (const { body } of page.items) {
        const { userId, data, version, createdAt, updatedAt } = body;
        text += `${JSON.stringify({ kind: 'user', userId, data, version, createdAt, updatedAt })}\n`;
        counts.users += 1;
      }
      if (text) yield text;
      continuation = page.continuation;
      await heartbeat();
    } while (continuation);
    if (!header.includeEvents) return;
    do {
      const page = await this.store.query<EventDocumentBody>({
        type: 'event',
        conditions: [{ path: ['event', 'source'], op: 'startsWith', value: '/bridge/users/' }],
        limit: EXPORT_PAGE,
        ...(continuation ? { continuation } : {}),
      });
      let text = '';
      for (const doc of page.items) {
        text += `${JSON.stringify({ kind: 'event', event: withSequence(doc.body.event, doc.seq ?? 0) })}\n`;
        counts.events += 1;
      }
      if (text) yield text;
      continuation = page.continuation;
      await heartbeat();
    } while (continuation);
  }

  // -------------------------------------------------------------------------------------------
  // Import

  async createImport(
    request: { path?: string; exportId?: string; clientId?: string },
    principal: Principal,
  ): Promise<{ job: ImportHeader; duplicate: boolean }> {
    if ((request.path === undefined) === (request.exportId === undefined)) {
      throw new ServiceError('validation', 'Name exactly one of path and exportId.', [
        { path: '/path', message: 'name exactly one of path and exportId' },
      ]);
    }
    const id = jobIdFor('import', principal, request.clientId);
    const pk = jobPartition('import', id);
    const requestHash = requestHashOf({ path: request.path ?? null, exportId: request.exportId ?? null });
    const existing = await this.store.read<ImportHeader>(pk, JOB_DOC_ID);
    if (existing) return { job: replayOrConflict(existing.body, requestHash), duplicate: true };

    let path = request.path;
    if (request.exportId !== undefined) {
      const source = await this.store.read<ExportHeader>(
        jobPartition('export', request.exportId),
        JOB_DOC_ID,
      );
      if (!source) {
        throw new ServiceError('validation', `No export ${request.exportId}.`, [
          { path: '/exportId', message: 'no such export' },
        ]);
      }
      if (source.body.status !== 'succeeded') {
        throw new ServiceError(
          'conflict',
          `Export ${request.exportId} is ${source.body.status}, not finished.`,
        );
      }
      path = source.body.path;
    }
    const file = await this.blobs.stat(path as string);
    if (!file) {
      throw new ServiceError('validation', `No file at ${path}.`, [
        { path: request.path !== undefined ? '/path' : '/exportId', message: 'no such file' },
      ]);
    }
    const header: ImportHeader = {
      ...newHeader('import', id, principal, requestHash, this.clock.now(), request.clientId),
      kind: 'import',
      path: file.path,
      etag: file.etag,
      bytes: file.size,
      linesDone: 0,
      counts: { changed: 0, unchanged: 0, skipped: 0, rejected: 0 },
    };
    const created = await this.createHeader(pk, header);
    if (created.duplicate) return created;
    await this.start('import', id, principal);
    return created;
  }

  async getImport(
    id: string,
    page: { after?: number; limit: number },
  ): Promise<
    | { job: ImportHeader; rejections: { line: number; reason: string }[]; nextRejection: number | null }
    | undefined
  > {
    const pk = jobPartition('import', id);
    const doc = await this.store.read<ImportHeader>(pk, JOB_DOC_ID);
    if (!doc) return undefined;
    const rejections = await this.store.query<{ line: number; reason: string }>({
      pk,
      type: REJECTION_TYPE,
      limit: page.limit,
      ...(page.after !== undefined ? { conditions: [{ path: ['line'], op: 'gt', value: page.after }] } : {}),
    });
    const list = rejections.items.map(({ body }) => ({ line: body.line, reason: body.reason }));
    const last = list[list.length - 1];
    return {
      job: doc.body,
      rejections: list,
      nextRejection: rejections.continuation && last ? last.line : null,
    };
  }

  importView(h: ImportHeader) {
    return {
      ...jobView(h),
      path: h.path,
      bytes: h.bytes,
      lines: h.linesDone,
      accepted: h.counts.changed + h.counts.unchanged,
      changed: h.counts.changed,
      unchanged: h.counts.unchanged,
      skipped: h.counts.skipped,
      rejected: h.counts.rejected,
      rejectionsListed: Math.min(h.counts.rejected, MAX_LISTED_REJECTIONS),
    };
  }

  async runImport(id: string): Promise<void> {
    const pk = jobPartition('import', id);
    const owner = randomUUID();
    const lease = await this.startJob<ImportHeader>(pk, owner);
    if (lease.kind !== 'acquired') return;
    let doc = lease.doc;
    try {
      const content = await this.blobs.read(doc.body.path, { ifMatch: doc.body.etag });
      if (!content) {
        await this.finish(pk, doc, 'failed', {
          kind: 'not-found',
          message: `${doc.body.path} no longer exists.`,
        });
        return;
      }
      const deadline = this.clock.now() + SLICE_MS;
      const done = doc.body.linesDone;
      let chunk: { number: number; parsed: ReturnType<typeof parseImportLine> }[] = [];
      try {
        for await (const line of ndjsonLines(maybeGunzip(content.body), MAX_LINE_BYTES)) {
          if (line.number <= done) continue;
          if (line.number > this.options.importMaxLines) {
            if (chunk.length > 0) doc = await this.applyChunk(pk, doc, chunk, owner);
            await this.finish(pk, doc, 'failed', {
              kind: 'validation',
              message: `The file has more than ${this.options.importMaxLines} lines (BRIDGE_ADMIN_IMPORT_MAX_LINES); the first ${this.options.importMaxLines} were imported.`,
            });
            return;
          }
          chunk.push({
            number: line.number,
            parsed:
              line.kind === 'too-long'
                ? { kind: 'reject', reason: `longer than ${MAX_LINE_BYTES} bytes` }
                : parseImportLine(line.text),
          });
          if (chunk.length < IMPORT_CHUNK) continue;
          doc = await this.applyChunk(pk, doc, chunk, owner);
          chunk = [];
          if (this.clock.now() >= deadline) {
            await this.handOver(pk, doc);
            return;
          }
        }
      } finally {
        content.body.destroy();
      }
      if (chunk.length > 0) doc = await this.applyChunk(pk, doc, chunk, owner);
      await this.finish(pk, doc, 'succeeded');
    } catch (error) {
      if (isBlobStoreError(error, 'changed')) {
        await this.finish(pk, doc, 'failed', {
          kind: 'conflict',
          message: `${doc.body.path} changed after the import was created.`,
        });
        return;
      }
      const zlibCode = (error as NodeJS.ErrnoException | undefined)?.code;
      if (typeof zlibCode === 'string' && zlibCode.startsWith('Z_')) {
        await this.finish(pk, doc, 'failed', {
          kind: 'validation',
          message: `The file is not valid gzip: ${(error as Error).message}`,
        });
        return;
      }
      await this.afterFailure(pk, doc, error);
    }
  }

  /** Applies one chunk of lines (each user's lines in order, users in parallel) and checkpoints it. */
  private async applyChunk(
    pk: string,
    doc: StoredDocument<ImportHeader>,
    chunk: { number: number; parsed: ReturnType<typeof parseImportLine> }[],
    owner: string,
  ): Promise<StoredDocument<ImportHeader>> {
    const id = doc.body.id;
    const counts = { ...doc.body.counts };
    const rejections: { line: number; reason: string }[] = [];
    const byUser = new Map<string, { number: number; data: Record<string, never> }[]>();
    for (const { number, parsed } of chunk) {
      if (parsed.kind === 'skip') counts.skipped += 1;
      else if (parsed.kind === 'reject') rejections.push({ line: number, reason: parsed.reason });
      else {
        const lines = byUser.get(parsed.userId) ?? [];
        lines.push({ number, data: parsed.data as Record<string, never> });
        byUser.set(parsed.userId, lines);
      }
    }
    const users = [...byUser.entries()];
    const worker = async () => {
      for (let next = users.shift(); next; next = users.shift()) {
        const [userId, lines] = next;
        for (const line of lines) {
          try {
            const result = await this.sync.sync(userId, { data: line.data }, 'admin', {
              idempotencyId: `${id}:${line.number}`,
            });
            if (result.changed) counts.changed += 1;
            else counts.unchanged += 1;
          } catch (error) {
            if (!(error instanceof ServiceError) || error.kind === 'unavailable') throw error;
            rejections.push({ line: line.number, reason: error.message });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: IMPORT_PARALLEL_USERS }, worker));
    rejections.sort((a, b) => a.line - b.line);
    const listed = Math.max(0, Math.min(rejections.length, MAX_LISTED_REJECTIONS - counts.rejected));
    counts.rejected += rejections.length;
    const now = this.clock.now();
    const last = chunk[chunk.length - 1]?.number ?? doc.body.linesDone;
    const body: ImportHeader = {
      ...doc.body,
      linesDone: last,
      counts,
      updatedAt: iso(now),
      lease: { owner, until: now + this.leaseMs },
    };
    try {
      const [result] = await this.store.batch(pk, [
        {
          op: 'replace',
          id: JOB_DOC_ID,
          type: JOB_TYPE,
          body,
          ifMatch: doc.etag,
          ttlSeconds: JOB_TTL_SECONDS,
        },
        ...rejections.slice(0, listed).map((r) => ({
          op: 'upsert' as const,
          id: rejectionId(r.line),
          type: REJECTION_TYPE,
          body: r,
          ttlSeconds: JOB_TTL_SECONDS,
        })),
      ]);
      return { ...doc, body, etag: result?.etag ?? doc.etag, ts: result?.ts ?? now };
    } catch (error) {
      if (isStoreError(error, 'precondition-failed')) throw new LeaseLost();
      throw error;
    }
  }

  /** Releases the lease and queues the next slice. */
  private async handOver(pk: string, doc: StoredDocument<ImportHeader>): Promise<void> {
    const { lease: _lease, ...rest } = doc.body;
    await writeHeader(this.store, pk, doc, { ...rest, updatedAt: iso(this.clock.now()) });
    await this.commands
      .sendJob(
        {
          job: { kind: 'import', id: doc.body.id },
          actor: doc.body.createdBy,
        },
        `job:${doc.body.id}:${doc.body.linesDone}`,
      )
      .catch((error: unknown) =>
        this.log(`import ${doc.body.id}: continuation not queued (the sweeper will): ${String(error)}`),
      );
  }

  // -------------------------------------------------------------------------------------------
  // Shared

  private async createHeader<H extends JobHeader>(
    pk: string,
    header: H,
  ): Promise<{ job: H; duplicate: boolean }> {
    try {
      await this.store.create(
        pk,
        { id: JOB_DOC_ID, type: JOB_TYPE, body: header },
        { ttlSeconds: JOB_TTL_SECONDS },
      );
      return { job: header, duplicate: false };
    } catch (error) {
      if (!isStoreError(error, 'conflict')) throw error;
      const existing = await this.store.read<H>(pk, JOB_DOC_ID);
      if (!existing) throw error;
      return { job: replayOrConflict(existing.body, header.requestHash), duplicate: true };
    }
  }

  /** Queues a job's first run; if the queue is down, the sweeper starts it later. */
  private async start(kind: 'export' | 'import', id: string, principal: Principal): Promise<void> {
    await this.commands
      .sendJob({ job: { kind, id }, actor: principalRef(principal) }, `job:${id}:start`)
      .catch((error: unknown) =>
        this.log(`${kind} ${id}: not queued yet (the sweeper will): ${String(error)}`),
      );
  }

  private async renew<H extends JobHeader>(
    pk: string,
    doc: StoredDocument<H>,
    owner: string,
  ): Promise<StoredDocument<H>> {
    const now = this.clock.now();
    try {
      return await writeHeader(this.store, pk, doc, {
        ...doc.body,
        lease: { owner, until: now + this.leaseMs },
        updatedAt: iso(now),
      });
    } catch (error) {
      if (isStoreError(error, 'precondition-failed')) throw new LeaseLost();
      throw error;
    }
  }

  private async finish<H extends JobHeader>(
    pk: string,
    doc: StoredDocument<H>,
    status: 'succeeded' | 'failed',
    error?: { kind: string; message: string },
  ): Promise<void> {
    const now = this.clock.now();
    const { lease: _lease, ...rest } = doc.body;
    await writeHeader(this.store, pk, doc, {
      ...(rest as H),
      status,
      finishedAt: iso(now),
      updatedAt: iso(now),
      ...(error ? { error } : {}),
    }).catch((e: unknown) => {
      if (!isStoreError(e, 'precondition-failed')) throw e; // another worker took over: its outcome stands
    });
  }

  /** A run that failed: given up after MAX_RUNS runs, else released and thrown for the bus to redeliver. */
  private async afterFailure<H extends JobHeader>(
    pk: string,
    doc: StoredDocument<H>,
    error: unknown,
  ): Promise<void> {
    if (error instanceof LeaseLost) return; // another worker runs the job now
    const message = error instanceof Error ? error.message : String(error);
    this.log(`${doc.body.kind} ${doc.body.id} run ${doc.body.attempts} failed: ${message}`);
    if (doc.body.attempts >= MAX_RUNS) {
      await this.finish(pk, doc, 'failed', { kind: 'internal', message: message.slice(0, 500) });
      return;
    }
    const { lease: _lease, ...rest } = doc.body;
    await writeHeader(this.store, pk, doc, { ...(rest as H), updatedAt: iso(this.clock.now()) }).catch(
      () => undefined,
    );
    throw error;
  }
}
