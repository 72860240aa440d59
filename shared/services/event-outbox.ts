import type { BatchOperation } from '../ports/document-store';
import {
  EVENT_DOC_TYPE,
  PUBLISHER_SOURCE_PREFIX,
  eventDocId,
  eventFits,
  reservedEventType,
  type EventDocumentBody,
  type PendingEvent,
} from '../domain/cloud-event';
import { ServiceError } from './errors';

/** An event document as the propagator needs it: where it lives, its commit position and content. */
export interface OutboxItem {
  pk: string;
  docId: string;
  /** The store's commit position of the event document: its replay sequence. */
  seq: number;
  body: EventDocumentBody;
}

/** What every event a write produces must respect (config.events). */
export interface EventLimits {
  retentionSeconds: number;
  /** BRIDGE_MAX_EVENT_BYTES: the largest event (CloudEvent JSON, UTF-8) the bus is sure to accept. */
  maxEventBytes: number;
}

/** Writes whose event would be larger than the bus accepts are refused before anything commits. */
export class EventTooLargeError extends ServiceError {
  constructor(
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(
      'payload-too-large',
      `The event this write would publish is ${sizeBytes} bytes; events are limited to ${maxBytes} bytes ` +
        '(BRIDGE_MAX_EVENT_BYTES, sized for the message bus). Nothing was changed; send less data per write.',
      [
        {
          path: '',
          message: `the resulting event must be at most ${maxBytes} bytes (BRIDGE_MAX_EVENT_BYTES)`,
        },
      ],
    );
  }
}

/**
 * The batch operation that writes an aggregate's event next to its state change, so that both
 * commit together or not at all (a transactional outbox in the same partition). Every event the
 * bridge accepts is publishable: one larger than `limits.maxEventBytes` is refused here, before the
 * write, with EventTooLargeError (413).
 */
export function outboxOperation(
  position: number | string,
  event: PendingEvent,
  committedAt: number,
  limits: EventLimits,
): BatchOperation {
  if (!event.source.startsWith(PUBLISHER_SOURCE_PREFIX) && reservedEventType(event.type) !== event.type) {
    // A programming error: every type the bridge emits must be in BRIDGE_EVENT_TYPES (reserved).
    throw new Error(`The bridge emits ${event.type}, which is missing from BRIDGE_EVENT_TYPES.`);
  }
  const { fits, sizeBytes } = eventFits(event, limits.maxEventBytes);
  if (!fits) throw new EventTooLargeError(sizeBytes ?? 0, limits.maxEventBytes);
  const body: EventDocumentBody = { event, committedAt };
  return {
    op: 'create',
    id: eventDocId(position),
    type: EVENT_DOC_TYPE,
    body,
    ttlSeconds: limits.retentionSeconds,
  };
}

/** The outbox item a committed event operation became, for the fast path; undefined without a sequence. */
export function toOutboxItem(
  pk: string,
  op: BatchOperation,
  seq: number | undefined,
): OutboxItem | undefined {
  if (seq === undefined || op.op !== 'create') return undefined;
  return { pk, docId: op.id, seq, body: op.body as EventDocumentBody };
}
