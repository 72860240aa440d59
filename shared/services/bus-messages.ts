import { createHash } from 'node:crypto';
import { CLOUDEVENTS_CONTENT_TYPE, type BridgeCloudEvent, type PendingEvent } from '../domain/cloud-event';
import type { OutgoingMessage } from '../ports/message-sender';

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

/** The sequence a published event carries: `,"sequence":"` + 16 digits + `"`. */
const SEQUENCE_FIELD_BYTES = ',"sequence":""'.length + 16;

/** The size of an event as it travels (its CloudEvent JSON in UTF-8, the sequence included). */
export function eventSizeBytes(event: PendingEvent): number {
  return Buffer.byteLength(JSON.stringify(event)) + SEQUENCE_FIELD_BYTES;
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

/**
 * Why the bus refused a message for a reason of the message itself (resending it cannot help), or
 * undefined for anything else (busy, unreachable, misconfigured: worth retrying later). Matches the
 * embedded bus (TypeError for a malformed message, MessageSizeExceeded) and the Service Bus adapter
 * (MessageSendError with code MessageSizeExceeded).
 */
export function eventRefusalReason(error: unknown): string | undefined {
  if (error instanceof TypeError || error instanceof RangeError) return `malformed message: ${error.message}`;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'MessageSizeExceeded') return `too large for the bus: ${(error as Error).message}`;
  return undefined;
}
