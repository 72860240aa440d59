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
  data: Record<string, JsonValue>;
  applied: string[];
  rejected: { field: string; reason: string }[];
  conflicts: { field: string; resolution: string }[];
  latencyMs: number;
}

/** A deleted user keeps a tombstone so versions (and with them event ids) never repeat. */
type ProfileDocument = UserProfile & { deleted?: true };

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

  async sync(userId: string, request: SyncRequest, writer: WriterRole): Promise<SyncResult> {
    const started = performance.now();
    try {
      await this.options.admission?.admit();
      const result = await this.syncWithRetries(userId, request, writer, started);
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
    request: SyncRequest,
    writer: WriterRole,
    started: number,
  ): Promise<SyncResult> {
    const pk = userPartition(userId);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.read<ProfileDocument>(pk, PROFILE_ID);
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
        data: outcome.profile.data,
        applied: outcome.applied,
        rejected: outcome.rejected,
        conflicts: outcome.conflicts,
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
      if (!outcome.changed) return result();

      const event = this.updateEvent(userId, request, outcome, writer, nowIso);
      const profileOp: BatchOperation = current
        ? { op: 'replace', id: PROFILE_ID, type: PROFILE_TYPE, body: outcome.profile, ifMatch: current.etag }
        : { op: 'create', id: PROFILE_ID, type: PROFILE_TYPE, body: outcome.profile };
      const eventOp = outboxOperation(outcome.profile.version, event, now, this.options.events);
      try {
        const [, eventResult] = await this.store.batch(pk, [profileOp, eventOp]);
        this.committed(pk, eventOp, eventResult?.seq);
        return result();
      } catch (error) {
        await this.afterLostRace(error, attempt, `User ${userId}`);
      }
    }
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
  async delete(userId: string, writer: WriterRole): Promise<boolean> {
    await this.options.admission?.admit();
    const pk = userPartition(userId);
    for (let attempt = 0; ; attempt++) {
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
      try {
        const [, eventResult] = await this.store.batch(pk, [
          { op: 'replace', id: PROFILE_ID, type: PROFILE_TYPE, body: tombstone, ifMatch: current.etag },
          eventOp,
        ]);
        this.committed(pk, eventOp, eventResult?.seq);
        return true;
      } catch (error) {
        await this.afterLostRace(error, attempt, `User ${userId}`);
      }
    }
  }
}
