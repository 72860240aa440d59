import { contentRequestSchema } from '../../domain/admin/content-templates';
import { toJsonObject, type JsonValue } from '../../domain/json';
import type { Clock } from '../../ports/clock';
import type { DocumentCollection } from '../../ports/document-store';
import type { BatchRef, JobMessage } from '../command-schemas';
import type { AdminCommand, CommandExtensions, CommandService, Operation } from '../command-service';
import { ServiceError } from '../errors';
import type { Principal } from '../principal';
import { FINAL_STATUSES, JOB_TYPE, iso, jobView, type JobHeader, type JobStatus } from './admin-jobs';
import type { AdminUsersService } from './admin-users-service';
import type { AiAdminService } from './ai-admin-service';
import type { AnalyticsService } from './analytics-service';
import type { BatchService } from './batch-service';
import type { TransferService } from './transfer-service';

/** The admin services, as the composition root exposes them (`services.admin`). */
export interface AdminServices {
  users: AdminUsersService;
  batches: BatchService;
  transfers: TransferService;
  analytics: AnalyticsService;
  ai: AiAdminService;
  operations: AdminOperations;
}

const SWEEP_PAGE = 100;

/**
 * The admin operations as the command processor sees them (CommandExtensions): admin commands from
 * `POST /api/operations` or the queue, batch items' bookkeeping, job messages — and the sweeper that
 * restarts jobs nobody is working on (a message lost with a crash, a queue that was down).
 */
export class AdminOperations implements CommandExtensions {
  constructor(
    private readonly parts: Omit<AdminServices, 'operations'>,
    private readonly deps: {
      store: DocumentCollection;
      clock: Clock;
      commands: CommandService;
      /** A job untouched this long (and with no live lease) is restarted by the sweeper. */
      stallMs: number;
    },
  ) {}

  async runAdmin(command: AdminCommand, principal: Principal, operationId: string): Promise<JsonValue> {
    const { users, ai, transfers, batches } = this.parts;
    switch (command.command) {
      case 'create_user':
        return toJsonObject(await users.create(command.userId, command.data, operationId));
      case 'enrich_user':
        return toJsonObject(await ai.enrich(command.userId, { idempotencyId: operationId }));
      case 'generate_content': {
        const request = contentRequestSchema.parse({ kind: command.kind, input: command.input });
        return toJsonObject(await ai.generate(request));
      }
      // The operation id stands in for a missing client id, so a redelivery creates no second job.
      case 'export_users': {
        const { job } = await transfers.createExport(
          { includeEvents: command.includeEvents ?? false, clientId: command.clientId ?? operationId },
          principal,
        );
        return toJsonObject({ exportId: job.id, status: job.status });
      }
      case 'import_users': {
        const { job } = await transfers.createImport(
          {
            ...(command.path !== undefined ? { path: command.path } : {}),
            ...(command.exportId !== undefined ? { exportId: command.exportId } : {}),
            clientId: command.clientId ?? operationId,
          },
          principal,
        );
        return toJsonObject({ importId: job.id, status: job.status });
      }
      case 'create_batch': {
        const { batch } = await batches.create(
          {
            operations: command.operations,
            clientId: command.clientId ?? operationId,
            ...(command.concurrency !== undefined ? { concurrency: command.concurrency } : {}),
          },
          principal,
        );
        return toJsonObject({ batchId: batch.id, status: batch.status, total: batch.total });
      }
    }
  }

  batchItemWanted(ref: BatchRef): Promise<boolean> {
    return this.parts.batches.itemWanted(ref);
  }

  batchItemFinished(ref: BatchRef, operation: Operation): Promise<void> {
    return this.parts.batches.itemFinished(ref, operation);
  }

  async runJob(message: JobMessage): Promise<void> {
    const { id, kind } = message.job;
    if (kind === 'batch') await this.parts.batches.sweep(id);
    else if (kind === 'export') await this.parts.transfers.runExport(id);
    else await this.parts.transfers.runImport(id);
  }

  /**
   * The sweeper (functions/jobs-sweep.ts): every unfinished job untouched for the stall time and not
   * leased is queued again. Returns what it restarted.
   */
  async sweep(): Promise<{ restarted: string[] }> {
    const now = this.deps.clock.now();
    const page = await this.deps.store.query<JobHeader>({
      type: JOB_TYPE,
      conditions: [
        ...[...FINAL_STATUSES].map((status) => ({ path: ['status'], op: 'ne' as const, value: status })),
        { path: ['updatedAt'], op: 'lt', value: iso(now - this.deps.stallMs) },
      ],
      limit: SWEEP_PAGE,
    });
    const restarted: string[] = [];
    for (const { body } of page.items) {
      if (body.lease && body.lease.until > now) continue;
      await this.deps.commands.sendJob(
        { job: { kind: body.kind, id: body.id }, actor: body.createdBy },
        `job:${body.id}:sweep:${now}`,
      );
      restarted.push(body.id);
    }
    return { restarted };
  }
}

/** 404 for a job id that names nothing. */
export function jobNotFound(kind: string, id: string): ServiceError {
  return new ServiceError('not-found', `No ${kind} ${id}.`);
}

export type { JobStatus };
export { jobView };
