import type { BatchOperation } from '../ports/document-store';
import {
  EVENT_DOC_TYPE,
  PUBLISHER_SOURCE_PREFIX,
  eventDocId,
  reservedEventType,
  type EventDocumentBody,
  type PendingEvent,
} from '../domain/cloud-event';

/** An event document as the propagator needs it: where it lives, its commit position and content. */
export interface OutboxItem {
  pk: string;
  docId: string;
  /** The store's commit position of the event document: its replay sequence. */
  seq: number;
  body: EventDocumentBody;
}

/**
 * The batch operation that writes an aggregate's event next to its state change, so that both
 * commit together or not at all (a transactional outbox in the same partition).
 */
export function outboxOperation(
  position: number | string,
  event: PendingEvent,
  committedAt: number,
  retentionSeconds: number,
): BatchOperation {
  if (!event.source.startsWith(PUBLISHER_SOURCE_PREFIX) && reservedEventType(event.type) !== event.type) {
    // A programming error: every type the bridge emits must be in BRIDGE_EVENT_TYPES (reserved).
    throw new Error(`The bridge emits ${event.type}, which is missing from BRIDGE_EVENT_TYPES.`);
  }
  const body: EventDocumentBody = { event, committedAt };
  return { op: 'create', id: eventDocId(position), type: EVENT_DOC_TYPE, body, ttlSeconds: retentionSeconds };
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
