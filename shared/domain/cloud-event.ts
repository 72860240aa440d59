import type { JsonValue } from './json';
import type { OutgoingMessage } from './bus-message';

/** The bridge's own event types (seed names); portals may publish their own types too. */
export const BRIDGE_EVENT_TYPES = [
  'user_update',
  'user_delete',
  'state_change',
  'analysis_complete',
  'resume_change',
  'application_change',
] as const;

export const EVENT_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** CloudEvents 1.0, JSON structured mode, with the `sequence` extension as replay cursor. */
export interface BridgeCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  data: JsonValue;
  /** Position in the bridge's commit order; pass it as `after` to replay from here. */
  sequence?: string;
}

/** What the outbox stores: the event without its sequence, which the store assigns at commit. */
export type PendingEvent = Omit<BridgeCloudEvent, 'sequence'>;

export const EVENT_DOC_TYPE = 'event';
export const EVENT_MARK_DOC_TYPE = 'event-published';

/** Event documents sit in the partition of the aggregate they describe, keyed by its version. */
export const eventDocId = (version: number | string) => `evt:${version}`;
export const eventMarkDocId = (eventDocIdValue: string) => `published:${eventDocIdValue}`;

export interface EventDocumentBody {
  event: PendingEvent;
  /** Epoch ms at commit, for propagation latency. */
  committedAt: number;
}

export interface EventMarkBody {
  eventId: string;
  publishedAt: number;
}

/** Sequence numbers are carried as zero-padded strings so they also sort as text. */
export function formatSequence(seq: number): string {
  return String(seq).padStart(16, '0');
}

export function parseSequence(text: string): number | undefined {
  return /^\d{1,16}$/.test(text) ? Number(text) : undefined;
}

export function withSequence(event: PendingEvent, seq: number): BridgeCloudEvent {
  return { ...event, sequence: formatSequence(seq) };
}

/**
 * The Service Bus shape of an event: body = the CloudEvent, messageId = its id (duplicate detection),
 * subject = its type, application property eventType = its type (for SQL filters).
 */
export function toBusMessage(event: BridgeCloudEvent): OutgoingMessage {
  return {
    messageId: event.id,
    body: event,
    subject: event.type,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    applicationProperties: {
      eventType: event.type,
      ...(event.subject ? { eventSubject: event.subject } : {}),
    },
  };
}
