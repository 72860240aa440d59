import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../../domain/json';
import type { Clock } from '../../ports/clock';
import { isStoreError, type DocumentCollection, type StoredDocument } from '../../ports/document-store';
import { idempotencyScopeOf } from '../access-policy';
import { ServiceError } from '../errors';
import { principalRef, type Principal, type PrincipalRef } from '../principal';

/**
 * What the admin jobs (batches, exports, imports) share: their header document, ids, idempotent
 * creation by a client id, and the lease that lets exactly one worker run a job at a time.
 *
 * A job's header is the document `job` in the job's own partition (`batch:<id>`, `export:<id>`,
 * `import:<id>`), of type `admin-job`, so the sweeper (admin-jobs-sweep) can find stalled jobs with
 * one query, and everything else of a job (batch items, import rejections) commits with its
 * header in one transactional batch.
 */

export const JOB_TYPE = 'admin-job';
export const JOB_DOC_ID = 'job';
/** Job documents are kept this long after their last change, then expire. */
export const JOB_TTL_SECONDS = 30 * 86_400;
/**
 * How long a worker holds a job's lease unless it renews it (it renews every quarter of it): the
 * stall time, at most a minute, so a crashed worker's job is free again by the time the sweeper
 * looks at it.
 */
export const leaseMsFor = (stallMs: number) => Math.min(60_000, Math.max(2_000, stallMs));
/** How long one invocation works on an import before it hands over to a continuation message. */
export const SLICE_MS = 20_000;

export type JobKind = 'batch' | 'export' | 'import';
export type JobStatus =
  'queued' | 'running' | 'cancelling' | 'succeeded' | 'failed' | 'completed' | 'cancelled';
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  'succeeded',
  'failed',
  'completed',
  'cancelled',
]);

export interface JobHeader {
  id: string;
  kind: JobKind;
  status: JobStatus;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /**
   * Who created the job; the job acts as this principal (principalFromRef). Headers written before
   * tokens existed hold `{keyId, role}`: a key reference without `kind`.
   */
  createdBy: PrincipalRef;
  clientId?: string;
  /** SHA-256 of the canonical request: a client id sent again with another request is a conflict. */
  requestHash: string;
  /** The worker that runs the job now, and until when (renewed while it works). */
  lease?: { owner: string; until: number };
  /** Invocations that ran the job. */
  attempts: number;
  error?: { kind: string; message: string };
}

const PREFIX: Record<JobKind, string> = { batch: 'bat', export: 'exp', import: 'imp' };
export const jobPartition = (kind: JobKind, id: string) => `${kind}:${id}`;

/** A new job id, or — with a client id — the same id for the same caller and client id every time. */
export function jobIdFor(kind: JobKind, principal: Principal, clientId?: string): string {
  if (clientId === undefined) return `${PREFIX[kind]}_${randomBytes(12).toString('hex')}`;
  const digest = createHash('sha256')
    .update(`${kind}\n${idempotencyScopeOf(principal)}\n${clientId}`, 'utf8')
    .digest('hex');
  return `${PREFIX[kind]}_${digest.slice(0, 24)}`;
}

export const requestHashOf = (request: unknown) =>
  createHash('sha256')
    .update(canonicalJson(request ?? null), 'utf8')
    .digest('hex');

export function newHeader(
  kind: JobKind,
  id: string,
  principal: Principal,
  requestHash: string,
  now: number,
  clientId: string | undefined,
  status: JobStatus = 'queued',
): JobHeader {
  const iso = new Date(now).toISOString();
  return {
    id,
    kind,
    status,
    createdAt: iso,
    updatedAt: iso,
    createdBy: principalRef(principal),
    ...(clientId !== undefined ? { clientId } : {}),
    requestHash,
    attempts: 0,
  };
}

/** The existing job for a repeated client id: the same request gets it back, another one is a conflict. */
export function replayOrConflict<H extends JobHeader>(existing: H, requestHash: string): H {
  if (existing.requestHash !== requestHash) {
    throw new ServiceError(
      'conflict',
      `clientId ${existing.clientId ?? ''} was already used for job ${existing.id} with a different request.`,
      [{ path: '/clientId', message: 'already used with a different request' }],
    );
  }
  return existing;
}

export type LeaseOutcome<H> =
  { kind: 'acquired'; doc: StoredDocument<H> } | { kind: 'busy' | 'finished' | 'missing' };

/**
 * Takes a job's lease for `owner` if nobody holds a live one: a redelivered or duplicated message
 * for a job that another worker is running then does nothing (that worker, or the sweeper once its
 * lease runs out, carries on). `start` is applied to the header with the lease.
 */
export async function acquireLease<H extends JobHeader>(
  store: DocumentCollection,
  pk: string,
  owner: string,
  clock: Clock,
  leaseMs: number,
  start: (header: H, now: number) => H = (h) => h,
): Promise<LeaseOutcome<H>> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const doc = await store.read<H>(pk, JOB_DOC_ID);
    if (!doc) return { kind: 'missing' };
    if (FINAL_STATUSES.has(doc.body.status)) return { kind: 'finished' };
    const now = clock.now();
    const lease = doc.body.lease;
    if (lease && lease.owner !== owner && lease.until > now) return { kind: 'busy' };
    const body = start({ ...doc.body, lease: { owner, until: now + leaseMs }, updatedAt: iso(now) }, now);
    try {
      const written = await store.upsert<H>(
        pk,
        { id: JOB_DOC_ID, type: JOB_TYPE, body },
        { ifMatch: doc.etag, ttlSeconds: JOB_TTL_SECONDS },
      );
      return { kind: 'acquired', doc: written };
    } catch (error) {
      if (!isStoreError(error, 'precondition-failed')) throw error;
    }
  }
  return { kind: 'busy' };
}

/**
 * Writes the header if it is still the version `doc` (this worker's); a newer version means another
 * worker took over, which the caller answers by stopping (precondition-failed is rethrown).
 */
export async function writeHeader<H extends JobHeader>(
  store: DocumentCollection,
  pk: string,
  doc: StoredDocument<H>,
  body: H,
): Promise<StoredDocument<H>> {
  return store.upsert<H>(
    pk,
    { id: JOB_DOC_ID, type: JOB_TYPE, body },
    { ifMatch: doc.etag, ttlSeconds: JOB_TTL_SECONDS },
  );
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Header fields every job answer shows. */
export function jobView(header: JobHeader) {
  const started = header.startedAt ? Date.parse(header.startedAt) : undefined;
  const finished = header.finishedAt ? Date.parse(header.finishedAt) : undefined;
  return {
    id: header.id,
    status: header.status,
    createdAt: header.createdAt,
    updatedAt: header.updatedAt,
    startedAt: header.startedAt ?? null,
    finishedAt: header.finishedAt ?? null,
    durationMs: started !== undefined && finished !== undefined ? finished - started : null,
    ...(header.clientId !== undefined ? { clientId: header.clientId } : {}),
    ...(header.error ? { error: header.error } : {}),
  };
}
