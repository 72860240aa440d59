import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { BatchOperation, DocumentCollection, JsonValue } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { PendingEvent } from '../domain/cloud-event';
import { ServiceError } from './errors';
import { outboxOperation, toOutboxItem, type EventLimits } from './event-outbox';
import type { CommitListener } from './commit-feed';
import type { WriteAdmission } from './write-admission';

export interface StateEntry {
  key: string;
  value: JsonValue;
  version: number;
  updatedAt: string;
  expiresAt?: string;
}

interface StateDocument extends StateEntry {
  /** Fixed when the entry is (re)created; with the version it keeps event ids unique across deletes and expiry. */
  incarnation: string;
}

export interface StatePut {
  value: JsonValue;
  ttlSeconds?: number;
  /** ETag the caller last saw; '*' = must exist. */
  ifMatch?: string;
  /** '*' = must not exist yet. */
  ifNoneMatch?: string;
}

const STATE_ID = 'state';
const STATE_TYPE = 'state';
const statePartition = (key: string) => `state:${key}`;
const stateSource = (key: string) => `/bridge/state/${encodeURIComponent(key)}`;

function publicEntry(doc: StateDocument): StateEntry {
  const { incarnation: _incarnation, ...entry } = doc;
  return entry;
}

/** What StateService is built from (the composition root passes these). */
export interface StateServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  maxRetries: number;
  /** What the events of a write must respect (retention, size). */
  events: EventLimits;
  onCommit?: CommitListener;
  /** Backpressure: a write waits here while the event backlog is full. */
  admission?: WriteAdmission;
}

/**
 * SharedStateManager: versioned key/value entries with ETags and optional expiry. Every change
 * writes its state_change event in the same batch (deletes too: the event is the tombstone).
 */
export class StateService {
  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly options: { maxRetries: number; events: EventLimits; admission?: WriteAdmission };
  private readonly onCommit: CommitListener | undefined;

  constructor(deps: StateServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.options = deps;
    this.onCommit = deps.onCommit;
  }

  async get(key: string): Promise<(StateEntry & { etag: string }) | undefined> {
    const doc = await this.store.read<StateDocument>(statePartition(key), STATE_ID);
    return doc ? { ...publicEntry(doc.body), etag: doc.etag } : undefined;
  }

  async put(key: string, put: StatePut): Promise<StateEntry & { etag: string }> {
    await this.options.admission?.admit();
    const pk = statePartition(key);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.read<StateDocument>(pk, STATE_ID);
      this.checkPreconditions(key, current?.etag, put.ifMatch, put.ifNoneMatch);
      const now = this.clock.now();
      const doc: StateDocument = {
        key,
        value: put.value,
        version: (current?.body.version ?? 0) + 1,
        updatedAt: new Date(now).toISOString(),
        incarnation: current?.body.incarnation ?? `${now.toString(36)}${randomBytes(4).toString('hex')}`,
        ...(put.ttlSeconds !== undefined
          ? { expiresAt: new Date(now + put.ttlSeconds * 1000).toISOString() }
          : {}),
      };
      const stateOp: BatchOperation = current
        ? {
            op: 'replace',
            id: STATE_ID,
            type: STATE_TYPE,
            body: doc,
            ifMatch: current.etag,
            ttlSeconds: put.ttlSeconds,
          }
        : { op: 'create', id: STATE_ID, type: STATE_TYPE, body: doc, ttlSeconds: put.ttlSeconds };
      const eventOp = this.eventOperation(
        doc,
        {
          key,
          version: doc.version,
          value: doc.value,
          ...(doc.expiresAt ? { expiresAt: doc.expiresAt } : {}),
        },
        now,
      );
      try {
        const [written, eventResult] = await this.store.batch(pk, [stateOp, eventOp]);
        this.committed(pk, eventOp, eventResult?.seq);
        return { ...publicEntry(doc), etag: written?.etag ?? '' };
      } catch (error) {
        this.rethrowUnlessLostRace(error, attempt, key);
      }
    }
  }

  /** True when the key existed. */
  async delete(key: string, ifMatch?: string): Promise<boolean> {
    await this.options.admission?.admit();
    const pk = statePartition(key);
    for (let attempt = 0; ; attempt++) {
      const current = await this.store.read<StateDocument>(pk, STATE_ID);
      if (!current) {
        if (ifMatch !== undefined)
          throw new ServiceError('precondition-failed', `State key ${key} does not exist (If-Match).`);
        return false;
      }
      this.checkPreconditions(key, current.etag, ifMatch, undefined);
      const now = this.clock.now();
      const tombstone = { ...current.body, version: current.body.version + 1 };
      const eventOp = this.eventOperation(tombstone, { key, version: tombstone.version, deleted: true }, now);
      try {
        const [, eventResult] = await this.store.batch(pk, [
          { op: 'delete', id: STATE_ID, ifMatch: current.etag },
          eventOp,
        ]);
        this.committed(pk, eventOp, eventResult?.seq);
        return true;
      } catch (error) {
        this.rethrowUnlessLostRace(error, attempt, key);
      }
    }
  }

  async size(): Promise<number> {
    return this.store.count({ type: STATE_TYPE });
  }

  private checkPreconditions(
    key: string,
    etag: string | undefined,
    ifMatch: string | undefined,
    ifNoneMatch: string | undefined,
  ): void {
    if (ifNoneMatch === '*' && etag !== undefined) {
      throw new ServiceError('precondition-failed', `State key ${key} already exists (If-None-Match: *).`);
    }
    if (ifMatch === undefined) return;
    if (etag === undefined)
      throw new ServiceError('precondition-failed', `State key ${key} does not exist (If-Match).`);
    if (ifMatch !== '*' && ifMatch !== etag) {
      throw new ServiceError('precondition-failed', `State key ${key} has changed: its ETag is ${etag}.`);
    }
  }

  private eventOperation(doc: StateDocument, data: Record<string, JsonValue>, now: number): BatchOperation {
    const position = `${doc.incarnation}:${doc.version}`;
    const event: PendingEvent = {
      specversion: '1.0',
      id: `state:${doc.key}:${position}`,
      source: stateSource(doc.key),
      type: 'state_change',
      subject: doc.key,
      time: new Date(now).toISOString(),
      datacontenttype: 'application/json',
      data,
    };
    return outboxOperation(position, event, now, this.options.events);
  }

  private committed(pk: string, eventOp: BatchOperation, seq: number | undefined): void {
    const item = toOutboxItem(pk, eventOp, seq);
    if (item) this.onCommit?.([item]);
  }

  private rethrowUnlessLostRace(error: unknown, attempt: number, key: string): void {
    const lostRace =
      isStoreError(error, 'precondition-failed') ||
      isStoreError(error, 'not-found') ||
      (isStoreError(error, 'conflict') && error.operationIndex === 0);
    if (!lostRace) throw error;
    // The caller's own preconditions are re-checked against the new state on the next pass.
    if (attempt >= this.options.maxRetries)
      throw new ServiceError('unavailable', `State key ${key} is being written concurrently; retry.`);
  }
}
