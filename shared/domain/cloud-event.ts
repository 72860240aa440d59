import { createHash } from 'node:crypto';
import type { JsonValue } from './json';
import type { OutgoingMessage } from './bus-message';

/**
 * Every event type the bridge itself emits: the one list. These names are reserved
 * (case-insensitively) — a portal publishing one could fake a state change, a charge or an
 * analysis. The outbox refuses a bridge event whose type is missing here, so a newly emitted
 * type cannot forget to reserve itself.
 */
export const BRIDGE_EVENT_TYPES = [
  'user_update',
  'user_delete',
  'state_change',
  'analysis_complete',
  'resume_change',
  'application_change',
  'tokens_granted',
  'tokens_charged',
  'subscription_disabled',
] as const;
export type BridgeEventType = (typeof BRIDGE_EVENT_TYPES)[number];

const RESERVED_EVENT_TYPES: ReadonlyMap<string, BridgeEventType> = new Map(
  BRIDGE_EVENT_TYPES.map((t) => [t.toLowerCase(), t]),
);

/** The bridge type a name collides with (any case), or undefined when a portal may use it. */
export function reservedEventType(type: string): BridgeEventType | undefined {
  return RESERVED_EVENT_TYPES.get(type.toLowerCase());
}

/** Source prefix of events that portals publish (publish_event); every other source is the bridge. */
export const PUBLISHER_SOURCE_PREFIX = '/bridge/publishers/';

export const EVENT_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';
/** CloudEvents batched content mode: a JSON array of events in one request. */
export const CLOUDEVENTS_BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

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
  /** Set when the bus refused the event for a reason of its own: handled, but not on the bus. */
  quarantined?: true;
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

/** Service Bus's limit on a message id (the embedded bus enforces the same). */
export const MAX_BUS_MESSAGE_ID_LENGTH = 128;

/**
 * A bus message id for a natural key: the key itself when it fits Service Bus's 128 characters,
 * else `sha256:` and its hash, deterministic so duplicate detection still recognises a resend.
 */
export function busMessageId(key: string): string {
  if (key.length <= MAX_BUS_MESSAGE_ID_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * The Service Bus shape of an event: body = the CloudEvent, messageId = its id (duplicate
 * detection; hashed when longer than the bus accepts, the CloudEvent id itself is unchanged),
 * subject = its type, application property eventType = its type (for SQL filters).
 */
export function toBusMessage(event: BridgeCloudEvent): OutgoingMessage {
  return {
    messageId: busMessageId(event.id),
    body: event,
    subject: event.type,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    applicationProperties: {
      eventType: event.type,
      ...(event.subject ? { eventSubject: event.subject } : {}),
    },
  };
}

/** The sequence a published event carries: `,"sequence":"` + 16 digits + `"`. */
const SEQUENCE_FIELD_BYTES = ',"sequence":""'.length + 16;

/** The size of an event as it travels (its CloudEvent JSON in UTF-8, the sequence included). */
export function eventSizeBytes(event: PendingEvent): number {
  return new TextEncoder().encode(JSON.stringify(event)).length + SEQUENCE_FIELD_BYTES;
}

/**
 * Whether an event stays within `maxBytes` as it travels. Most events are far below the limit: a
 * walk bounding the JSON size (each UTF-16 unit of a string is at most 6 bytes, escaped) settles
 * those without building the JSON text; only events that might be near the limit are serialised.
 */
export function eventFits(event: PendingEvent, maxBytes: number): { fits: boolean; sizeBytes?: number } {
  if (jsonSizeBound(event, maxBytes) + SEQUENCE_FIELD_BYTES <= maxBytes) return { fits: true };
  const sizeBytes = eventSizeBytes(event);
  return { fits: sizeBytes <= maxBytes, sizeBytes };
}

/** An upper bound of a JSON value's UTF-8 size, or a number above `cap` once it passes it. */
function jsonSizeBound(value: unknown, cap: number): number {
  let total = 0;
  const visit = (v: unknown): void => {
    if (total > cap) return;
    if (typeof v === 'string') total += v.length * 6 + 2;
    else if (typeof v === 'number') total += 24;
    else if (typeof v === 'boolean' || v === null || v === undefined) total += 5;
    else if (Array.isArray(v)) {
      total += 2 + v.length;
      for (const item of v) visit(item);
    } else if (typeof v === 'object') {
      for (const key in v) {
        total += key.length * 6 + 4;
        visit((v as Record<string, unknown>)[key]);
      }
      total += 2;
    } else total = cap + 1; // not JSON: let JSON.stringify decide
  };
  visit(value);
  return total;
}
