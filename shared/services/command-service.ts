import { randomBytes } from 'node:crypto';
import { JSON_TOO_DEEP_MESSAGE, jsonValueTooDeep } from '../domain/json-safety';
import type { Clock } from '../ports/clock';
import type { DocumentCollection, JsonValue } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { MessageSender } from '../ports/message-sender';
import { COMMANDS_QUEUE } from '../domain/bus-topology';
import { toJsonObject } from '../domain/json';
import { authorizeCommand, mayReadOperation, ownerIdOf } from './access-policy';
import { principalFromRef, principalRef, type Principal } from './principal';
import {
  ADMIN_ONLY_COMMANDS,
  commandMessageSchema,
  jobMessageSchema,
  type BatchRef,
  type Command,
  type CommandMessage,
  type JobMessage,
} from './command-schemas';
import { ServiceError } from './errors';
import type { AnalysisService } from './analysis-service';
import type { PublishService } from './publish-service';
import type { SyncService } from './sync-service';

export type OperationStatus = 'queued' | 'succeeded' | 'failed' | 'cancelled';

export interface Operation {
  id: string;
  command: Command['command'];
  status: OperationStatus;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  result?: JsonValue;
  error?: { kind: string; message: string; errors?: { path: string; message: string }[] };
  /** The batch this operation is an item of. */
  batch?: BatchRef;
  /** Who queued it (access-policy ownerIdOf); absent on operations recorded before owners were. */
  owner?: string;
}

const OPERATION_ID = 'operation';
const OPERATION_TYPE = 'operation';
const operationPartition = (id: string) => `op:${id}`;
/** Operation records are kept for a week, then expire. */
const OPERATION_TTL_SECONDS = 7 * 86_400;

/** The admin commands (issue 14), run by the admin services. */
export type AdminCommand = Extract<
  Command,
  {
    command:
      'create_user' | 'enrich_user' | 'generate_content' | 'export_users' | 'import_users' | 'create_batch';
  }
>;

/**
 * What the admin operations add to the command processor (built by the composition root from the
 * admin services): running admin commands, batch items' bookkeeping, and job messages.
 */
export interface CommandExtensions {
  runAdmin(command: AdminCommand, principal: Principal, operationId: string): Promise<JsonValue>;
  /** False once the item's batch is cancelled: the item is then recorded as cancelled, not run. */
  batchItemWanted(ref: BatchRef): Promise<boolean>;
  /** The item's operation reached a final status (also called again for a redelivered finished item). */
  batchItemFinished(ref: BatchRef, operation: Operation): Promise<void>;
  /** Runs (or continues) an admin job; throws only for infrastructure failures. */
  runJob(message: JobMessage, deliveryCount: number): Promise<void>;
}

/** A command that can never succeed; thrown so the bus retries it no further than its delivery limit. */
export class PoisonCommandError extends Error {
  override name = 'PoisonCommandError';
}

/** What CommandService is built from (the composition root passes these). */
export interface CommandServiceDeps {
  store: DocumentCollection;
  sender: MessageSender;
  clock: Clock;
  sync: SyncService;
  publisher: PublishService;
  analysis: AnalysisService;
  /** The admin operations; without them admin commands fail (validation). */
  extensions?: CommandExtensions;
}

const isAdminCommand = (command: Command): command is AdminCommand =>
  ADMIN_ONLY_COMMANDS.has(command.command) && command.command !== 'delete_user';

/**
 * The asynchronous form of bridge operations: a command is recorded as an operation, queued on
 * bridge-commands, run by commands-process through the same services, and its result recorded.
 * Queued syncs and deletes pass their operation id as the write's idempotency id, and a queued
 * publish without an id is published under its operation id, so a redelivered message (after a
 * crash, or a lock that expired) never applies its change twice.
 */
export class CommandService {
  private readonly store: DocumentCollection;
  private readonly sender: MessageSender;
  private readonly clock: Clock;
  private readonly sync: SyncService;
  private readonly publisher: PublishService;
  private readonly analysis: AnalysisService;
  private extensions: CommandExtensions | undefined;

  constructor(deps: CommandServiceDeps) {
    this.store = deps.store;
    this.sender = deps.sender;
    this.clock = deps.clock;
    this.sync = deps.sync;
    this.publisher = deps.publisher;
    this.analysis = deps.analysis;
    this.extensions = deps.extensions;
  }

  /** Attaches the admin operations (they are built after this service, which they use to queue items). */
  extend(extensions: CommandExtensions): void {
    this.extensions = extensions;
  }

  /**
   * Records the operation and queues its command. With `operationId` (a batch item's deterministic
   * id) the call is idempotent: an operation that already exists is queued again only while it is
   * still queued (the queue's duplicate detection drops a copy of a message it already holds).
   */
  async enqueue(
    requested: Command,
    principal: Principal,
    options: { operationId?: string; batch?: BatchRef } = {},
  ): Promise<Operation> {
    // 403 for what this principal may not do (admin-only commands; an end user: only about themselves).
    const command = authorizeCommand(principal, requested);
    const id = options.operationId ?? `op_${randomBytes(12).toString('hex')}`;
    const now = new Date(this.clock.now()).toISOString();
    let operation: Operation = {
      id,
      command: command.command,
      status: 'queued',
      createdAt: now,
      updatedAt: now,
      attempts: 0,
      ...(options.batch ? { batch: options.batch } : {}),
      owner: ownerIdOf(principal),
    };
    try {
      await this.store.create(
        operationPartition(id),
        { id: OPERATION_ID, type: OPERATION_TYPE, body: operation },
        { ttlSeconds: OPERATION_TTL_SECONDS },
      );
    } catch (error) {
      if (options.operationId === undefined || !isStoreError(error, 'conflict')) throw error;
      const existing = await this.get(id);
      if (!existing) throw error;
      operation = existing;
      if (existing.status !== 'queued') return existing;
    }
    const message: CommandMessage = {
      operationId: id,
      actor: principalRef(principal),
      command,
      ...(options.batch ? { batch: options.batch } : {}),
    };
    try {
      await this.sender.send(COMMANDS_QUEUE, [
        { messageId: id, body: message, subject: command.command, contentType: 'application/json' },
      ]);
    } catch (error) {
      // A batch item stays queued: the batch sweeper sends it again.
      if (options.batch) throw error;
      await this.record(id, {
        status: 'failed',
        error: { kind: 'unavailable', message: `could not queue the command: ${(error as Error).message}` },
      });
      throw new ServiceError(
        'unavailable',
        'The command queue is unavailable; nothing was queued. Retry the request.',
      );
    }
    return operation;
  }

  /** Queues a job message (a batch's dispatcher, an export, an import); `messageId` says which run. */
  async sendJob(message: JobMessage, messageId: string): Promise<void> {
    await this.sender.send(COMMANDS_QUEUE, [
      { messageId, body: message, subject: `job:${message.job.kind}`, contentType: 'application/json' },
    ]);
  }

  async get(id: string): Promise<Operation | undefined> {
    if (!/^op_[a-f0-9]{24}$/.test(id)) return undefined;
    return (await this.store.read<Operation>(operationPartition(id), OPERATION_ID))?.body;
  }

  /** The operation as `viewer` may see it: undefined (a 404) when there is none it may read. */
  async getFor(viewer: Principal, id: string): Promise<Operation | undefined> {
    const operation = await this.get(id);
    return operation && mayReadOperation(viewer, operation.owner) ? operation : undefined;
  }

  /**
   * Runs one queued message: a command, or an admin job. Client faults (validation, conflicts) are
   * final and recorded as failed; infrastructure errors propagate so the bus redelivers; a
   * malformed message is poison.
   */
  async process(body: unknown, deliveryCount: number): Promise<OperationStatus | 'job'> {
    // Queue senders other than the bridge exist (services with send rights): bound depth before zod recurses.
    if (jsonValueTooDeep(body)) throw new PoisonCommandError(`malformed command: ${JSON_TOO_DEEP_MESSAGE}`);
    if (typeof body === 'object' && body !== null && 'job' in body) {
      const job = jobMessageSchema.safeParse(body);
      if (!job.success) throw new PoisonCommandError(`malformed job message: ${issues(job.error.issues)}`);
      if (!this.extensions) throw new PoisonCommandError('admin jobs are not available on this instance');
      await this.extensions.runJob(job.data, deliveryCount);
      return 'job';
    }
    const parsed = commandMessageSchema.safeParse(body);
    if (!parsed.success) throw new PoisonCommandError(`malformed command: ${issues(parsed.error.issues)}`);
    const { operationId, actor, command, batch } = parsed.data;
    const existing = await this.get(operationId);
    if (existing && existing.status !== 'queued') {
      // A redelivered, finished command: its batch may not have heard of it yet (a crash in between).
      if (batch) await this.extensions?.batchItemFinished(batch, existing);
      return existing.status;
    }
    if (batch && this.extensions && !(await this.extensions.batchItemWanted(batch))) {
      const cancelled = await this.record(
        operationId,
        { status: 'cancelled', attempts: deliveryCount },
        command.command,
      );
      await this.extensions.batchItemFinished(batch, cancelled);
      return 'cancelled';
    }
    let finished: Operation;
    try {
      const result = await this.run(command, actor, operationId);
      finished = await this.record(
        operationId,
        { status: 'succeeded', result, attempts: deliveryCount },
        command.command,
      );
    } catch (error) {
      if (!(error instanceof ServiceError) || error.kind === 'unavailable') throw error;
      finished = await this.record(
        operationId,
        {
          status: 'failed',
          error: {
            kind: error.kind,
            message: error.message,
            ...(error.errors ? { errors: error.errors } : {}),
          },
          attempts: deliveryCount,
        },
        command.command,
      );
    }
    if (batch) await this.extensions?.batchItemFinished(batch, finished);
    return finished.status;
  }

  private async run(
    command: Command,
    actor: CommandMessage['actor'],
    operationId: string,
  ): Promise<JsonValue> {
    const principal = principalFromRef(actor);
    // Checked again: commands may also arrive on the queue directly (services with send rights).
    authorizeCommand(principal, command);
    if (isAdminCommand(command)) {
      if (!this.extensions) throw new ServiceError('validation', 'Admin operations are not available.');
      return this.extensions.runAdmin(command, principal, operationId);
    }
    switch (command.command) {
      case 'sync_user_data': {
        const result = await this.sync.sync(
          command.userId,
          { data: command.data, baseVersion: command.baseVersion },
          actor.role,
          { idempotencyId: operationId },
        );
        return toJsonObject(result);
      }
      case 'publish_event': {
        const { command: _c, ...request } = command;
        // Without the caller's id the operation names the event, so a redelivery publishes no second one.
        return await this.publisher.publish({ ...request, id: request.id ?? operationId }, principal);
      }
      case 'comprehensive_analysis': {
        const { command: _c, ...request } = command;
        // The operation id names the analysis_complete event, so a redelivery commits no second one.
        return toJsonObject(await this.analysis.comprehensive(request, principal, { eventId: operationId }));
      }
      case 'geographic_analysis': {
        const { command: _c, ...request } = command;
        return toJsonObject(await this.analysis.geographic(request));
      }
      case 'bayesian_inference': {
        const { command: _c, ...request } = command;
        return toJsonObject(await this.analysis.bayesian(request));
      }
      case 'delete_user':
        return {
          deleted: await this.sync.delete(command.userId, actor.role, { idempotencyId: operationId }),
        };
      default:
        throw new PoisonCommandError(`unknown command ${(command as { command: string }).command}`);
    }
  }

  private async record(
    id: string,
    patch: Partial<Operation>,
    command?: Command['command'],
  ): Promise<Operation> {
    const pk = operationPartition(id);
    const current = await this.store.read<Operation>(pk, OPERATION_ID);
    const now = new Date(this.clock.now()).toISOString();
    const base: Operation = current?.body ?? {
      id,
      command: command ?? 'sync_user_data',
      status: 'queued',
      createdAt: now,
      updatedAt: now,
      attempts: 0,
    };
    const body: Operation = { ...base, ...patch, updatedAt: now };
    await this.store.upsert(
      pk,
      { id: OPERATION_ID, type: OPERATION_TYPE, body },
      { ttlSeconds: OPERATION_TTL_SECONDS },
    );
    return body;
  }
}

function issues(list: readonly { path: PropertyKey[]; message: string }[]): string {
  return list.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
