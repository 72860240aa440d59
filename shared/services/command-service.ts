import { randomBytes } from 'node:crypto';
import { JSON_TOO_DEEP_MESSAGE, jsonValueTooDeep } from '../domain/json-safety';
import type { Clock } from '../ports/clock';
import type { DocumentCollection, JsonValue } from '../ports/document-store';
import type { MessageSender } from '../ports/message-sender';
import { COMMANDS_QUEUE } from '../domain/bus-topology';
import { toJsonObject } from '../domain/json';
import { authorizeCommand, mayReadOperation, ownerIdOf } from './access-policy';
import { principalFromRef, principalRef, type Principal } from './principal';
import { commandMessageSchema, type Command, type CommandMessage } from './command-schemas';
import { ServiceError } from './errors';
import type { AnalysisService } from './analysis-service';
import type { PublishService } from './publish-service';
import type { SyncService } from './sync-service';

export type OperationStatus = 'queued' | 'succeeded' | 'failed';

export interface Operation {
  id: string;
  command: Command['command'];
  status: OperationStatus;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  result?: JsonValue;
  error?: { kind: string; message: string; errors?: { path: string; message: string }[] };
  /** Who queued it (access-policy ownerIdOf); absent on operations recorded before owners were. */
  owner?: string;
}

const OPERATION_ID = 'operation';
const OPERATION_TYPE = 'operation';
const operationPartition = (id: string) => `op:${id}`;
/** Operation records are kept for a week, then expire. */
const OPERATION_TTL_SECONDS = 7 * 86_400;

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
}

/**
 * The asynchronous form of bridge operations: a command is recorded as an operation, queued on
 * bridge-commands, run by commands-process through the same services, and its result recorded.
 */
export class CommandService {
  private readonly store: DocumentCollection;
  private readonly sender: MessageSender;
  private readonly clock: Clock;
  private readonly sync: SyncService;
  private readonly publisher: PublishService;
  private readonly analysis: AnalysisService;

  constructor(deps: CommandServiceDeps) {
    this.store = deps.store;
    this.sender = deps.sender;
    this.clock = deps.clock;
    this.sync = deps.sync;
    this.publisher = deps.publisher;
    this.analysis = deps.analysis;
  }

  async enqueue(requested: Command, principal: Principal): Promise<Operation> {
    // 403 for what this principal may not do (an end user: only about themselves).
    const command = authorizeCommand(principal, requested);
    const id = `op_${randomBytes(12).toString('hex')}`;
    const now = new Date(this.clock.now()).toISOString();
    const operation: Operation = {
      id,
      command: command.command,
      status: 'queued',
      createdAt: now,
      updatedAt: now,
      attempts: 0,
      owner: ownerIdOf(principal),
    };
    await this.store.create(
      operationPartition(id),
      { id: OPERATION_ID, type: OPERATION_TYPE, body: operation },
      { ttlSeconds: OPERATION_TTL_SECONDS },
    );
    const message: CommandMessage = {
      operationId: id,
      actor: principalRef(principal),
      command,
    };
    try {
      await this.sender.send(COMMANDS_QUEUE, [
        { messageId: id, body: message, subject: command.command, contentType: 'application/json' },
      ]);
    } catch (error) {
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
   * Runs one queued command. Client faults (validation, conflicts) are final and recorded as failed;
   * infrastructure errors propagate so the bus redelivers; a malformed message is poison.
   */
  async process(body: unknown, deliveryCount: number): Promise<OperationStatus> {
    // Queue senders other than the bridge exist (services with send rights): bound depth before zod recurses.
    if (jsonValueTooDeep(body)) throw new PoisonCommandError(`malformed command: ${JSON_TOO_DEEP_MESSAGE}`);
    const parsed = commandMessageSchema.safeParse(body);
    if (!parsed.success) {
      throw new PoisonCommandError(
        `malformed command: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
      );
    }
    const { operationId, actor, command } = parsed.data;
    const existing = await this.get(operationId);
    if (existing && existing.status !== 'queued') return existing.status; // a redelivered, finished command
    try {
      const result = await this.run(command, actor, operationId);
      await this.record(
        operationId,
        { status: 'succeeded', result, attempts: deliveryCount },
        command.command,
      );
      return 'succeeded';
    } catch (error) {
      if (!(error instanceof ServiceError) || error.kind === 'unavailable') throw error;
      await this.record(
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
      return 'failed';
    }
  }

  private async run(
    command: Command,
    actor: CommandMessage['actor'],
    operationId: string,
  ): Promise<JsonValue> {
    const principal = principalFromRef(actor);
    // Checked again: commands may also arrive on the queue directly (services with send rights).
    authorizeCommand(principal, command);
    switch (command.command) {
      case 'sync_user_data': {
        const result = await this.sync.sync(
          command.userId,
          { data: command.data, baseVersion: command.baseVersion },
          actor.role,
        );
        return toJsonObject(result);
      }
      case 'publish_event': {
        const { command: _c, ...request } = command;
        return await this.publisher.publish(request, principal);
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
        return { deleted: await this.sync.delete(command.userId, actor.role) };
    }
  }

  private async record(id: string, patch: Partial<Operation>, command?: Command['command']): Promise<void> {
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
    await this.store.upsert(
      pk,
      { id: OPERATION_ID, type: OPERATION_TYPE, body: { ...base, ...patch, updatedAt: now } },
      { ttlSeconds: OPERATION_TTL_SECONDS },
    );
  }
}
