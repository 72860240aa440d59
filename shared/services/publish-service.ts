import { randomUUID } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentCollection, JsonValue } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import {
  PUBLISHER_SOURCE_PREFIX,
  eventDocId,
  formatSequence,
  reservedEventType,
  type BridgeEventType,
  type EventDocumentBody,
  type PendingEvent,
} from '../domain/cloud-event';
import { actorIdOf, type Principal } from './principal';
import { ServiceError } from './errors';
import { outboxOperation, toOutboxItem, type EventLimits } from './event-outbox';
import type { CommitListener } from './commit-feed';
import type { WriteAdmission } from './write-admission';

export interface PublishRequest {
  type: string;
  data: JsonValue;
  subject?: string;
  /** Caller's idempotency id: publishing the same id twice yields one event. */
  id?: string;
}

/** What PublishService is built from (the composition root passes these). */
export interface PublishServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  /** What the events of a write must respect (retention, size). */
  events: EventLimits;
  onCommit?: CommitListener;
  /** Backpressure: a publish waits here while the event backlog is full. */
  admission?: WriteAdmission;
}

export function reservedTypeMessage(type: string, reserved: string): string {
  return `${type} is reserved: the bridge emits ${reserved} itself`;
}

/** publish_event: a portal's own event, committed to the outbox like every other event. */
export class PublishService {
  private readonly store: DocumentCollection;
  private readonly clock: Clock;
  private readonly events: EventLimits;
  private readonly onCommit: CommitListener | undefined;
  private readonly admission: WriteAdmission | undefined;

  constructor(deps: PublishServiceDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.events = deps.events;
    this.onCommit = deps.onCommit;
    this.admission = deps.admission;
  }

  /** A portal's own event; a type the bridge emits (any case) is refused. */
  async publish(
    request: PublishRequest,
    publisher: Principal,
  ): Promise<{ id: string; sequence: string; duplicate: boolean }> {
    const reserved = reservedEventType(request.type);
    if (reserved) {
      throw new ServiceError('validation', reservedTypeMessage(request.type, reserved), [
        { path: '/type', message: reservedTypeMessage(request.type, reserved) },
      ]);
    }
    return this.commit(request, publisher);
  }

  /** An event the bridge emits on a caller's behalf (analysis_complete): its type must be a bridge type. */
  async emit(
    request: PublishRequest & { type: BridgeEventType },
    publisher: Principal,
  ): Promise<{ id: string; sequence: string; duplicate: boolean }> {
    return this.commit(request, publisher);
  }

  private async commit(
    request: PublishRequest,
    publisher: Principal,
  ): Promise<{ id: string; sequence: string; duplicate: boolean }> {
    await this.admission?.admit();
    const id = `pub:${actorIdOf(publisher)}:${request.id ?? randomUUID()}`;
    const pk = `pub:${id}`;
    const now = this.clock.now();
    const event: PendingEvent = {
      specversion: '1.0',
      id,
      source: `${PUBLISHER_SOURCE_PREFIX}${actorIdOf(publisher)}`,
      type: request.type,
      ...(request.subject !== undefined ? { subject: request.subject } : {}),
      time: new Date(now).toISOString(),
      datacontenttype: 'application/json',
      data: request.data,
    };
    const op = outboxOperation(0, event, now, this.events);
    try {
      const [result] = await this.store.batch(pk, [op]);
      const item = toOutboxItem(pk, op, result?.seq);
      if (item) this.onCommit?.([item]);
      return { id, sequence: formatSequence(result?.seq ?? 0), duplicate: false };
    } catch (error) {
      if (!isStoreError(error, 'conflict')) throw error;
      const existing = await this.store.read<EventDocumentBody>(pk, eventDocId(0));
      return { id, sequence: formatSequence(existing?.seq ?? 0), duplicate: true };
    }
  }
}
