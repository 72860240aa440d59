import { createHash } from 'node:crypto';
import type { Clock } from '../../ports/clock';
import type { JsonValue } from '../../domain/json';
import {
  isStoreError,
  type BatchOperation,
  type DocumentCollection,
  type StoredDocument,
} from '../../ports/document-store';
import type { BatchItemCommand, BatchRef } from '../command-schemas';
import type { CommandService, Operation } from '../command-service';
import { ServiceError } from '../errors';
import { principalFromRef, type Principal } from '../principal';
import {
  FINAL_STATUSES,
  JOB_DOC_ID,
  JOB_TTL_SECONDS,
  JOB_TYPE,
  iso,
  jobIdFor,
  jobPartition,
  jobView,
  newHeader,
  replayOrConflict,
  requestHashOf,
  type JobHeader,
} from './admin-jobs';

/**
 * Batch jobs (issue 14 item 2): `POST /api/admin/batches {operations, clientId?, concurrency?}`.
 *
 * Every item is an ordinary queued operation (`POST /api/operations` body) with a deterministic
 * operation id (from the batch id and its index), run by commands-process like any other. The batch
 * keeps at most `concurrency` items on the queue: creating it dispatches the first ones, and each
 * finished item dispatches the next (the dispatcher, `pump`). Its header and items live in one
 * partition, so "item finished" and "counters moved" commit together in one transactional batch.
 *
 * Surviving a crash: an item's change is applied at most once whatever is redelivered (queued syncs
 * and deletes commit an idempotency marker with the change; publishes and analyses are named by the
 * operation id), a redelivered finished item only tells its batch again (idempotent), and the sweeper
 * sends again any item that has been queued longer than the stall time (the queue's duplicate
 * detection drops the copy when the first one is still there).
 */

export const BATCH_ITEM_TYPE = 'admin-batch-item';
const itemId = (index: number) => `item:${String(index).padStart(5, '0')}`;
/** The deterministic operation id of a batch item. */
export const itemOperationId = (batchId: string, index: number) =>
  `op_${createHash('sha256').update(`${batchId}:${index}`).digest('hex').slice(0, 24)}`;
const MAX_RACES = 200;

export type ItemStatus = 'pending' | 'queued' | 'succeeded' | 'failed' | 'cancelled';

export interface BatchHeader extends JobHeader {
  kind: 'batch';
  total: number;
  concurrency: number;
  /** Items dispatched so far: items [0, dispatched) have been queued. */
  dispatched: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface BatchItem {
  index: number;
  operationId: string;
  command: BatchItemCommand;
  status: ItemStatus;
  dispatchedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  result?: JsonValue;
  error?: Operation['error'];
}

export interface BatchServiceOptions {
  maxItems: number;
  /** Default and maximum items in flight per batch. */
  concurrency: number;
  /** An item queued longer than this without finishing is sent again by the sweeper. */
  stallMs: number;
}

export interface BatchServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  commands: CommandService;
  options: BatchServiceOptions;
}

export class BatchService {
  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly commands: CommandService;
  readonly options: BatchServiceOptions;

  constructor(deps: BatchServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.commands = deps.commands;
    this.options = deps.options;
  }

  /** Creates the batch (or returns the one this client id made) and dispatches its first items. */
  async create(
    request: { operations: BatchItemCommand[]; clientId?: string; concurrency?: number },
    principal: Principal,
  ): Promise<{ batch: ReturnType<BatchService['view']>; duplicate: boolean }> {
    const { operations, clientId } = request;
    if (operations.length > this.options.maxItems) {
      throw new ServiceError('validation', `A batch holds at most ${this.options.maxItems} operations.`, [
        { path: '/operations', message: `at most ${this.options.maxItems} (BRIDGE_ADMIN_BATCH_MAX_ITEMS)` },
      ]);
    }
    const concurrency = request.concurrency ?? this.options.concurrency;
    if (concurrency > this.options.concurrency) {
      throw new ServiceError('validation', `concurrency is at most ${this.options.concurrency}.`, [
        {
          path: '/concurrency',
          message: `at most ${this.options.concurrency} (BRIDGE_ADMIN_BATCH_CONCURRENCY)`,
        },
      ]);
    }
    const id = jobIdFor('batch', principal, clientId);
    const pk = jobPartition('batch', id);
    const requestHash = requestHashOf({ operations, concurrency });
    const existing = await this.store.read<BatchHeader>(pk, JOB_DOC_ID);
    if (existing) return { batch: this.view(replayOrConflict(existing.body, requestHash)), duplicate: true };

    // Items first, header last: the header is the commit point (a retry with the same client id
    // rewrites the same items and then creates it).
    const now = this.clock.now();
    for (let start = 0; start < operations.length; start += 100) {
      const ops: BatchOperation[] = operations.slice(start, start + 100).map((command, i) => {
        const index = start + i;
        const item: BatchItem = {
          index,
          operationId: itemOperationId(id, index),
          command,
          status: 'pending',
        };
        return {
          op: 'upsert',
          id: itemId(index),
          type: BATCH_ITEM_TYPE,
          body: item,
          ttlSeconds: JOB_TTL_SECONDS,
        };
      });
      await this.store.batch(pk, ops);
    }
    const header: BatchHeader = {
      ...newHeader('batch', id, principal, requestHash, now, clientId, 'running'),
      kind: 'batch',
      startedAt: iso(now),
      total: operations.length,
      concurrency,
      dispatched: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    };
    try {
      await this.store.create(
        pk,
        { id: JOB_DOC_ID, type: JOB_TYPE, body: header },
        { ttlSeconds: JOB_TTL_SECONDS },
      );
    } catch (error) {
      if (!isStoreError(error, 'conflict')) throw error;
      const raced = await this.store.read<BatchHeader>(pk, JOB_DOC_ID);
      if (!raced) throw error;
      return { batch: this.view(replayOrConflict(raced.body, requestHash)), duplicate: true };
    }
    // Dispatch failures leave the items for the sweeper; the batch exists either way.
    const dispatched = await this.pump(id).catch(() => undefined);
    return { batch: this.view(dispatched ?? header), duplicate: false };
  }

  async get(
    id: string,
    page: { after?: number; limit: number },
  ): Promise<
    | (ReturnType<BatchService['view']> & { items: ReturnType<typeof itemView>[]; nextItem: number | null })
    | undefined
  > {
    const pk = jobPartition('batch', id);
    const header = await this.store.read<BatchHeader>(pk, JOB_DOC_ID);
    if (!header) return undefined;
    const items = await this.store.query<BatchItem>({
      pk,
      type: BATCH_ITEM_TYPE,
      limit: page.limit,
      ...(page.after !== undefined ? { conditions: [{ path: ['index'], op: 'gt', value: page.after }] } : {}),
    });
    const views = items.items.map((doc) => itemView(doc.body, header.body));
    const last = views[views.length - 1];
    return {
      ...this.view(header.body),
      items: views,
      nextItem: items.continuation !== undefined && last ? last.index : null,
    };
  }

  /** Stops dispatching; queued items that have not started are recorded as cancelled when they come up. */
  async cancel(id: string): Promise<ReturnType<BatchService['view']>> {
    const pk = jobPartition('batch', id);
    for (let attempt = 0; attempt < MAX_RACES; attempt++) {
      const doc = await this.store.read<BatchHeader>(pk, JOB_DOC_ID);
      if (!doc) throw new ServiceError('not-found', `No batch ${id}.`);
      const h = doc.body;
      if (h.status === 'cancelling' || h.status === 'cancelled') return this.view(h);
      if (FINAL_STATUSES.has(h.status))
        throw new ServiceError('conflict', `Batch ${id} has already ${h.status}.`);
      const now = iso(this.clock.now());
      const notDispatched = h.total - h.dispatched;
      const next: BatchHeader = {
        ...h,
        status: 'cancelling',
        cancelled: h.cancelled + notDispatched,
        dispatched: h.total,
        updatedAt: now,
      };
      if (finishedCount(next) === next.total) Object.assign(next, { status: 'cancelled', finishedAt: now });
      try {
        await this.store.upsert(
          pk,
          { id: JOB_DOC_ID, type: JOB_TYPE, body: next },
          { ifMatch: doc.etag, ttlSeconds: JOB_TTL_SECONDS },
        );
        return this.view(next);
      } catch (error) {
        if (!isStoreError(error, 'precondition-failed')) throw error;
      }
    }
    throw new ServiceError('unavailable', `Batch ${id} is changing too fast to cancel; retry.`);
  }

  /** Whether a batch item should still run: only while its batch is running. */
  async itemWanted(ref: BatchRef): Promise<boolean> {
    const header = await this.store.read<BatchHeader>(jobPartition('batch', ref.id), JOB_DOC_ID);
    return header?.body.status === 'running';
  }

  /** Records an item's outcome and its counters together (once), then dispatches more. */
  async itemFinished(ref: BatchRef, operation: Operation): Promise<void> {
    const pk = jobPartition('batch', ref.id);
    for (let attempt = 0; attempt < MAX_RACES; attempt++) {
      const [header, item] = await Promise.all([
        this.store.read<BatchHeader>(pk, JOB_DOC_ID),
        this.store.read<BatchItem>(pk, itemId(ref.index)),
      ]);
      if (!header || !item) return; // expired or never created: nothing to account for
      if (isItemFinal(item.body.status)) break; // counted already (a redelivery)
      const status = operation.status === 'queued' ? 'failed' : operation.status;
      const now = this.clock.now();
      const dispatched = item.body.dispatchedAt ? Date.parse(item.body.dispatchedAt) : now;
      const nextItem: BatchItem = {
        ...item.body,
        status,
        finishedAt: iso(now),
        durationMs: Math.max(0, now - dispatched),
        ...(operation.result !== undefined ? { result: operation.result } : {}),
        ...(operation.error ? { error: operation.error } : {}),
      };
      const h = header.body;
      const next: BatchHeader = {
        ...h,
        succeeded: h.succeeded + (status === 'succeeded' ? 1 : 0),
        failed: h.failed + (status === 'failed' ? 1 : 0),
        cancelled: h.cancelled + (status === 'cancelled' ? 1 : 0),
        updatedAt: iso(now),
      };
      settle(next, now);
      try {
        await this.store.batch(pk, [
          {
            op: 'replace',
            id: JOB_DOC_ID,
            type: JOB_TYPE,
            body: next,
            ifMatch: header.etag,
            ttlSeconds: JOB_TTL_SECONDS,
          },
          {
            op: 'replace',
            id: itemId(ref.index),
            type: BATCH_ITEM_TYPE,
            body: nextItem,
            ifMatch: item.etag,
            ttlSeconds: JOB_TTL_SECONDS,
          },
        ]);
        break;
      } catch (error) {
        if (!isStoreError(error, 'precondition-failed')) throw error;
      }
    }
    await this.pump(ref.id);
  }

  /**
   * Dispatches items until `concurrency` are in flight: marks them queued together with the header,
   * then sends their commands. Returns the header as left.
   */
  async pump(id: string): Promise<BatchHeader | undefined> {
    const pk = jobPartition('batch', id);
    for (let attempt = 0; attempt < MAX_RACES; attempt++) {
      const doc = await this.store.read<BatchHeader>(pk, JOB_DOC_ID);
      if (!doc) return undefined;
      const h = doc.body;
      // cancel() counts the items it never dispatched as dispatched and cancelled, so this stays exact.
      const inFlight = h.dispatched - finishedCount(h);
      const room = Math.min(h.concurrency - inFlight, h.total - h.dispatched, 99);
      if (h.status !== 'running' || room <= 0) return h;
      const now = this.clock.now();
      const indexes = Array.from({ length: room }, (_, i) => h.dispatched + i);
      const items = await Promise.all(indexes.map((i) => this.store.read<BatchItem>(pk, itemId(i))));
      const next: BatchHeader = { ...h, dispatched: h.dispatched + room, updatedAt: iso(now) };
      const ops: BatchOperation[] = [
        {
          op: 'replace',
          id: JOB_DOC_ID,
          type: JOB_TYPE,
          body: next,
          ifMatch: doc.etag,
          ttlSeconds: JOB_TTL_SECONDS,
        },
      ];
      const queued: BatchItem[] = [];
      for (const item of items) {
        if (!item) continue;
        const body: BatchItem = { ...item.body, status: 'queued', dispatchedAt: iso(now) };
        queued.push(body);
        ops.push({
          op: 'replace',
          id: item.id,
          type: BATCH_ITEM_TYPE,
          body,
          ifMatch: item.etag,
          ttlSeconds: JOB_TTL_SECONDS,
        });
      }
      try {
        await this.store.batch(pk, ops);
      } catch (error) {
        if (!isStoreError(error, 'precondition-failed')) throw error;
        continue;
      }
      await Promise.all(queued.map((item) => this.send(id, h, item)));
      return next;
    }
    return undefined;
  }

  /**
   * The sweeper's pass over one batch: items queued longer than the stall time are sent again (a
   * finished operation is reported to the batch instead), then the dispatcher fills up.
   */
  async sweep(id: string): Promise<void> {
    const pk = jobPartition('batch', id);
    const header = await this.store.read<BatchHeader>(pk, JOB_DOC_ID);
    if (!header || FINAL_STATUSES.has(header.body.status)) return;
    const stalledBefore = iso(this.clock.now() - this.options.stallMs);
    let continuation: string | undefined;
    do {
      const page = await this.store.query<BatchItem>({
        pk,
        type: BATCH_ITEM_TYPE,
        conditions: [
          { path: ['status'], op: 'eq', value: 'queued' },
          { path: ['dispatchedAt'], op: 'lt', value: stalledBefore },
        ],
        limit: 100,
        ...(continuation ? { continuation } : {}),
      });
      for (const { body: item } of page.items) {
        const operation = await this.commands.get(item.operationId);
        if (operation && operation.status !== 'queued')
          await this.itemFinished({ id, index: item.index }, operation);
        else await this.send(id, header.body, item);
      }
      continuation = page.continuation;
    } while (continuation);
    if (header.body.status === 'cancelling') {
      await this.settleCancelled(id);
    }
    await this.pump(id);
  }

  private async settleCancelled(id: string): Promise<void> {
    const pk = jobPartition('batch', id);
    const doc = await this.store.read<BatchHeader>(pk, JOB_DOC_ID);
    if (!doc || doc.body.status !== 'cancelling') return;
    const next = { ...doc.body };
    if (!settle(next, this.clock.now())) return;
    await this.store
      .upsert(
        pk,
        { id: JOB_DOC_ID, type: JOB_TYPE, body: next },
        { ifMatch: doc.etag, ttlSeconds: JOB_TTL_SECONDS },
      )
      .catch((error: unknown) => {
        if (!isStoreError(error, 'precondition-failed')) throw error;
      });
  }

  private async send(id: string, header: BatchHeader, item: BatchItem): Promise<void> {
    const actor = principalFromRef(header.createdBy);
    await this.commands.enqueue(item.command, actor, {
      operationId: item.operationId,
      batch: { id, index: item.index },
    });
  }

  view(h: BatchHeader) {
    const finished = finishedCount(h);
    return {
      ...jobView(h),
      total: h.total,
      succeeded: h.succeeded,
      failed: h.failed,
      cancelled: h.cancelled,
      /** Items not finished yet: queued or running now, or not yet dispatched. */
      pending: h.total - finished,
      running: Math.max(0, h.dispatched - finished),
      concurrency: h.concurrency,
    };
  }
}

const isItemFinal = (status: ItemStatus) =>
  status === 'succeeded' || status === 'failed' || status === 'cancelled';
const finishedCount = (h: BatchHeader) => h.succeeded + h.failed + h.cancelled;

/** When every item has finished, the batch is completed (or cancelled). Returns whether it changed. */
function settle(h: BatchHeader, now: number): boolean {
  if (finishedCount(h) < h.total || FINAL_STATUSES.has(h.status)) return false;
  h.status = h.status === 'cancelling' ? 'cancelled' : 'completed';
  h.finishedAt = iso(now);
  return true;
}

function itemView(item: BatchItem, header: StoredDocument<BatchHeader>['body']) {
  // Items never dispatched before a cancel keep their stored status; they are cancelled.
  const cancelled =
    item.status === 'pending' && (header.status === 'cancelling' || header.status === 'cancelled');
  return {
    index: item.index,
    operationId: item.operationId,
    command: item.command.command,
    status: cancelled ? ('cancelled' as const) : item.status,
    dispatchedAt: item.dispatchedAt ?? null,
    finishedAt: item.finishedAt ?? null,
    durationMs: item.durationMs ?? null,
    ...(item.result !== undefined ? { result: item.result } : {}),
    ...(item.error ? { error: item.error } : {}),
  };
}
