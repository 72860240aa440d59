import { randomInt } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentCollection, JsonValue } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { PendingEvent } from '../domain/cloud-event';
import {
  mergeProfileWrite,
  type MergeOutcome,
  type UserProfile,
  type WriterRole,
} from '../domain/user-profile';
import { ServiceError } from './errors';
import { outboxOperation, toOutboxItem, type EventLimits } from './event-outbox';
import type { CommitListener } from './commit-feed';
import type { SyncMetrics } from './sync-metrics';
import type { WriteAdmission } from './write-admission';

export interface SyncRequest {
  data: Record<string, JsonValue>;
  baseVersion?: number;
}

export interface SyncResult {
  success: true;
  userId: string;
  version: number;
  /** False when the write left the profile as it was (no new version, no event). */
  changed: boolean;
  data: Record<string, JsonValue>;
  applied: string[];
  rejected: { field: string; reason: string }[];
  conflicts: { field: string; resolution: string }[];
  latencyMs: number;
}

/** A deleted user keeps a tombstone so versions (and with them event ids) never repeat. */
type ProfileDocument = UserProfile & { deleted?: true };

/**
 * How one write is made. `createOnly`: refuse (conflict) when the user exists — POST /api/admin/users.
 * `idempotencyId`: names the write (a queued operation's id): it commits a marker with its outcome
 * in the same transactional batch, and the same id again returns the recorded outcome and changes
 * nothing, so a redelivered command is never applied twice.
 */
export interface WriteOptions {
  createOnly?: boolean;
  /** Refuse (not-found) when the user does not exist: a write about a user must not recreate one. */
  mustExist?: boolean;
  idempotencyId?: string;
}

/** The marker of an applied idempotent write, next to the profile (same partition, same batch). */
interface AppliedMarker {
  idempotencyId: string;
  outcome: Omit<SyncResult, 'latencyMs'> | { deleted: boolean };
}
const APPLIED_TYPE = 'sync-applied';
const appliedId = (idempotencyId: string) => `applied:${idempotencyId}`;

export interface SyncServiceOptions {
  protectedFields: ReadonlySet<string>;
  maxRetries: number;
  /** What the events of a write must respect (retention, size). */
  events: EventLimits;
  /** Backpressure: a write waits here while the event backlog is full. */
  admission?: WriteAdmission;
}

const PROFILE_ID = 'profile';
const PROFILE_TYPE = 'user';
export const userPartition = (userId: string) => `user:${userId}`;
export const userEventSource = (userId: string) => `/bridge/users/${encodeURIComponent(userId)}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type { CommitListener } from './commit-feed';

/** What SyncService is built from (the composition root passes these). */
export interface SyncServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  metrics: SyncMetrics;
  options: SyncServiceOptions;
  onCommit?: CommitListener;
}

/**
 * sync_user_data and the user profile reads/deletes. A write is read → merge → one transactional
 * batch {profile (conditional on its ETag), event}; a lost race re-reads and re-merges (bounded,
 * jittered), so no update is lost and no state change exists without its event.
 */
export class SyncService {
  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly metrics: SyncMetrics;
  private readonly options: SyncServiceOptions;
  private readonly onCommit: CommitListener | undefined;

  constructor(deps: SyncServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.metrics = deps.metrics;
    this.options = deps.options;
    this.onCommit = deps.onCommit;
  }

  /**
   * A sync whose data is computed from the profile as it is when the write happens (e.g. "add
   * these skills to the list"): `compute` runs on every attempt with the freshly read profile, so a
   * concurrent write is never overwritten by a stale computation. Same merge rules, same event.
   */
  async syncComputed(
    userId: string,
    compute: (current: UserProfile | undefined) => SyncRequest,
    writer: WriterRole,
    options: WriteOptions = {},
  ): Promise<SyncResult> {
    return this.sync(userId, compute, writer, options);
  }

  async sync(
    userId: string,
    request: SyncRequest | ((current: UserProfile | undefined) => SyncRequest),
    writer: WriterRole,
    options: WriteOptions = {},
  ): Promise<SyncResult> {
    const started = performance.now();
    try {
      await this.options.admission?.admit();
      const result = await this.syncWithRetries(userId, request, writer, started, options);
      this.metrics.record('succeeded', result.latencyMs);
      this.metrics.recordDetail({
        conflicts: result.conflicts.length,
        rejectedFields: result.rejected.length,
        writer,
      });
      return result;
    } catch (error) {
      const clientFault = error instanceof ServiceError && error.kind !== 'unavailable';
      this.metrics.record(clientFault ? 'rejected' : 'failed', performance.now() - started);
      throw error;
    }
  }

  private async syncWithRetries(
    userId: string,
    requested: SyncRequest | ((current: UserProfile | undefined) => SyncRequest),
    writer: WriterRole,
    started: number,
    options: WriteOptions,
  ): Promise<SyncResult> {
    const pk = userPartition(userId);
    const latencyMs = () => Math.round((performance.now() - started) * 1000) / 1000;
    for (let attempt = 0; ; attempt++) {
      // The marker commits with the change, so a first attempt needs no look: a replay's batch fails
      // on the marker and the next attempt returns what was recorded. Checks that read the profile
      // (createOnly, mustExist) must see a replay first, or they would answer for the first delivery.
      const lookFirst = attempt > 0 || options.createOnly === true || options.mustExist === true;
      const recorded = lookFirst ? await this.recorded(pk, options.idempotencyId) : undefined;
      if (recorded && 'success' in recorded) return { ...recorded, latencyMs: latencyMs() };
      const current = await this.store.read<ProfileDocument>(pk, PROFILE_ID);
      if (options.mustExist && (!current || current.body.deleted)) {
        throw new ServiceError('not-found', `No user ${userId}.`);
      }
      if (options.createOnly && current && !current.body.deleted) {
        throw new ServiceError('conflict', `User ${userId} already exists.`, [
          { path: '/userId', message: 'already exists' },
        ]);
      }
      const now = this.clock.now();
      const nowIso = new Date(now).toISOString();
      // After a delete, a new profile starts empty but continues the version line.
      const base = current?.body.deleted
        ? {
            userId,
            data: {},
            fields: {},
            version: current.body.version,
            createdAt: nowIso,
            updatedAt: nowIso,
          }
        : current?.body;
      const request = typeof requested === 'function' ? requested(base) : requested;
      const outcome = mergeProfileWrite(
        base,
        { userId, data: request.data, baseVersion: request.baseVersion, writer, now: nowIso },
        this.options.protectedFields,
      );
      if (outcome.kind === 'base-ahead') {
        throw new ServiceError(
          'conflict',
          `baseVersion ${request.baseVersion} is ahead of the profile's current version ${outcome.currentVersion}.`,
          [{ path: '/baseVersion', message: `must be at most ${outcome.currentVersion}` }],
        );
      }
      const result = (): SyncResult => ({
        success: true,
        userId,
        version: outcome.profile.version,
        changed: outcome.changed,
        data: outcome.profile.data,
        applied: outcome.applied,
        rejected: outcome.rejected,
        conflicts: outcome.conflicts,
        latencyMs: latencyMs(),
      });
      const marker = this.markerOperation(options.idempotencyId, result());
      if (!outcome.changed) {
        if (!marker) return result();
        // Nothing changed, but the id is still spent: a redelivery later must not re-apply it.
        try {
          await this.store.batch(pk, [marker]);
          return result();
        } catch (error) {
          await this.afterLostRace(error, attempt, `User ${userId}`);
          continue;
        }
      }

      const event = this.updateEvent(userId, request, outcome, writer, nowIso);
      const profileOp: BatchOperation = current
        ? { op: 'replace', id: PROFILE_ID, type: PROFILE_TYPE, body: outcome.profile, ifMatch: current.etag }
        : { op: 'create', id: PROFILE_ID, type: PROFILE_TYPE, body: outcome.profile };
      const eventOp = outboxOperation(outcome.profile.version, event, now, this.options.events);
      try {
        const [, eventResult] = await this.store.batch(pk, [profileOp, eventOp, ...(marker ? [marker] : [])]);
        this.committed(pk, eventOp, eventResult?.seq);
        return result();
      } catch (error) {
        // A marker that already exists (index 2) is another delivery that won: the next attempt replays it.
        await this.afterLostRace(error, attempt, `User ${userId}`);
      }
    }
  }

  /** The outcome an idempotent write recorded, if that id was already applied. */
  private async recorded(pk: string, idempotencyId: string | undefined) {
    if (idempotencyId === undefined) return undefined;
    return (await this.store.read<AppliedMarker>(pk, appliedId(idempotencyId)))?.body.outcome;
  }

  private markerOperation(
    idempotencyId: string | undefined,
    outcome: AppliedMarker['outcome'],
  ): BatchOperation | undefined {
    if (idempotencyId === undefined) return undefined;
    let recorded = outcome;
    if ('latencyMs' in recorded) {
      const { latencyMs: _l, ...rest } = recorded;
      recorded = rest;
    }
    const body: AppliedMarker = { idempotencyId, outcome: recorded };
    return {
      op: 'create',
      id: appliedId(idempotencyId),
      type: APPLIED_TYPE,
      body,
      ttlSeconds: this.options.events.retentionSeconds,
    };
  }

  private updateEvent(
    userId: string,
    request: SyncRequest,
    outcome: MergeOutcome,
    writer: WriterRole,
    time: string,
  ): PendingEvent {
    const changes: Record<string, JsonValue> = {};
    for (const field of outcome.applied) {
      const before = outcome.profile.fields[field];
      if (before?.version === outcome.profile.version) changes[field] = request.data[field] as JsonValue;
    }
    return {
      specversion: '1.0',
      id: `user:${userId}:${outcome.profile.version}`,
      source: userEventSource(userId),
      type: 'user_update',
      subject: userId,
      time,
      datacontenttype: 'application/json',
      data: { userId, version: outcome.profile.version, writer, changes, conflicts: outcome.conflicts },
    };
  }

  private committed(pk: string, eventOp: BatchOperation, seq: number | undefined): void {
    const item = toOutboxItem(pk, eventOp, seq);
    if (item) this.onCommit?.([item]);
  }

  /** Rethrows anything but a lost optimistic-concurrency race; waits before the next attempt. */
  private async afterLostRace(error: unknown, attempt: number, what: string): Promise<void> {
    const lostRace =
      isStoreError(error, 'precondition-failed') ||
      (isStoreError(error, 'conflict') && error.operationIndex !== 1);
    if (!lostRace) throw error;
    if (attempt >= this.options.maxRetries) {
      throw new ServiceError(
        'unavailable',
        `${what} is being written concurrently; gave up after ${attempt + 1} attempts. Retry the request.`,
      );
    }
    // Jittered backoff spreads competing writers apart; the first retry goes at once.
    if (attempt > 0) await sleep(randomInt(0, Math.min(50, 2 ** attempt) + 1));
  }

  async get(userId: string): Promise<(UserProfile & { etag: string }) | undefined> {
    const doc = await this.store.read<ProfileDocument>(userPartition(userId), PROFILE_ID);
    return doc && !doc.body.deleted ? { ...doc.body, etag: doc.etag } : undefined;
  }

  /** Replaces the profile by a tombstone and emits user_delete in the same batch; false when there was no user. */
  async delete(
    userId: string,
    writer: WriterRole,
    options: Pick<WriteOptions, 'idempotencyId'> = {},
  ): Promise<boolean> {
    await this.options.admission?.admit();
    const pk = userPartition(userId);
    for (let attempt = 0; ; attempt++) {
      const recorded = await this.recorded(pk, options.idempotencyId);
      if (recorded && 'deleted' in recorded) return recorded.deleted;
      const current = await this.store.read<ProfileDocument>(pk, PROFILE_ID);
      if (!current || current.body.deleted) return false;
      const now = this.clock.now();
      const nowIso = new Date(now).toISOString();
      const version = current.body.version + 1;
      const tombstone: ProfileDocument = {
        userId,
        data: {},
        fields: {},
        version,
        createdAt: current.body.createdAt,
        updatedAt: nowIso,
        deleted: true,
      };
      const event: PendingEvent = {
        specversion: '1.0',
        id: `user:${userId}:${version}`,
        source: userEventSource(userId),
        type: 'user_delete',
        subject: userId,
        time: nowIso,
        datacontenttype: 'application/json',
        data: { userId, version, writer },
      };
      const eventOp = outboxOperation(version, event, now, this.options.events);
      const marker = this.markerOperation(options.idempotencyId, { deleted: true });
      try {
        const [, eventResult] = await this.store.batch(pk, [
          { op: 'replace', id: PROFILE_ID, type: PROFILE_TYPE, body: tombstone, ifMatch: current.etag },
          eventOp,
          ...(marker ? [marker] : []),
        ]);
        this.committed(pk, eventOp, eventResult?.seq);
        return true;
      } catch (error) {
        await this.afterLostRace(error, attempt, `User ${userId}`);
      }
    }
  }
}
