import { randomInt } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentStore, JsonValue, StoredDocument } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import { mergeProfileWrite, type UserProfile, type WriterRole } from '../domain/user-profile';
import { ServiceError } from './errors';
import type { SyncMetrics } from './sync-metrics';

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

const PROFILE_ID = 'profile';
const PROFILE_TYPE = 'user';
export const userPartition = (userId: string) => `user:${userId}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * sync_user_data and the user profile reads/deletes. A write is read → merge → conditional write
 * on the ETag; a lost race re-reads and re-merges (bounded, jittered), so no update is ever lost.
 */
export class SyncService {
  constructor(
    private readonly store: DocumentStore,
    private readonly container: string,
    private readonly clock: Clock,
    private readonly metrics: SyncMetrics,
    private readonly options: { protectedFields: ReadonlySet<string>; maxRetries: number },
  ) {}

  async sync(userId: string, request: SyncRequest, writer: WriterRole): Promise<SyncResult> {
    const started = performance.now();
    try {
      const result = await this.syncWithRetries(userId, request, writer, started);
      this.metrics.record('succeeded', result.latencyMs);
      return result;
    } catch (error) {
      this.metrics.record(
        error instanceof ServiceError && error.kind !== 'unavailable' ? 'rejected' : 'failed',
        performance.now() - started,
      );
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
      const current = await this.store.read<UserProfile>(this.container, pk, PROFILE_ID);
      const outcome = mergeProfileWrite(
        current?.body,
        {
          userId,
          data: request.data,
          baseVersion: request.baseVersion,
          writer,
          now: new Date(this.clock.now()).toISOString(),
        },
        this.options.protectedFields,
      );
      if (outcome.kind === 'base-ahead') {
        throw new ServiceError(
          'conflict',
          `baseVersion ${request.baseVersion} is ahead of the profile's current version ${outcome.currentVersion}.`,
          [{ path: '/baseVersion', message: `must be at most ${outcome.currentVersion}` }],
        );
      }
      const result = (profile: UserProfile): SyncResult => ({
        success: true,
        userId,
        version: profile.version,
        data: profile.data,
        applied: outcome.applied,
        rejected: outcome.rejected,
        conflicts: outcome.conflicts,
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
      if (!outcome.changed) return result(outcome.profile);
      try {
        if (current) {
          await this.store.upsert(
            this.container,
            pk,
            { id: PROFILE_ID, type: PROFILE_TYPE, body: outcome.profile },
            { ifMatch: current.etag },
          );
        } else {
          await this.store.create(this.container, pk, {
            id: PROFILE_ID,
            type: PROFILE_TYPE,
            body: outcome.profile,
          });
        }
        return result(outcome.profile);
      } catch (error) {
        const lostRace = isStoreError(error, 'precondition-failed') || isStoreError(error, 'conflict');
        if (!lostRace) throw error;
        if (attempt >= this.options.maxRetries) {
          throw new ServiceError(
            'unavailable',
            `User ${userId} is being written concurrently; gave up after ${attempt + 1} attempts. Retry the request.`,
          );
        }
        // Jittered backoff spreads competing writers apart; the first retry goes at once.
        if (attempt > 0) await sleep(randomInt(0, Math.min(50, 2 ** attempt) + 1));
      }
    }
  }

  async get(userId: string): Promise<(UserProfile & { etag: string }) | undefined> {
    const doc: StoredDocument<UserProfile> | undefined = await this.store.read<UserProfile>(
      this.container,
      userPartition(userId),
      PROFILE_ID,
    );
    return doc ? { ...doc.body, etag: doc.etag } : undefined;
  }

  /** True when the user existed. */
  async delete(userId: string): Promise<boolean> {
    try {
      await this.store.delete(this.container, userPartition(userId), PROFILE_ID);
      return true;
    } catch (error) {
      if (isStoreError(error, 'not-found')) return false;
      throw error;
    }
  }
}
