/**
 * The embedded bus's message codec: validates an outgoing message and turns it into the columns it
 * is stored as (serialised once, before any write lock is taken), and turns a stored row back into
 * the message a receiver gets.
 */
import type { OutgoingMessage, ReceivedMessage } from '../../ports/message-sender';
import { EmbeddedBusError } from './embedded-bus-errors';
import type { MessageRow } from './embedded-bus-schema';

/** Service Bus's limit on messageId. */
export const MAX_MESSAGE_ID_LENGTH = 128;

/** A validated message in its stored form. */
export interface EncodedMessage {
  messageId: string;
  body: string;
  subject: string | null;
  contentType: string | null;
  correlationId: string | null;
  props: string | null;
  /** The application properties as given (subscription filters read them). */
  properties: Record<string, unknown>;
  scheduledAt: number | null;
}

/**
 * Validates and serialises `message` (the `index`th of a send to `entityPath`); throws TypeError for
 * a malformed message and MessageSizeExceeded past `maxSize` bytes (body, properties and headers,
 * UTF-8).
 */
export function encodeMessage(
  message: OutgoingMessage,
  index: number,
  entityPath: string,
  maxSize: number,
): EncodedMessage {
  const where = `messages[${index}]`;
  if (typeof message !== 'object' || message === null) throw new TypeError(`${where} must be an object`);
  const { messageId } = message;
  if (typeof messageId !== 'string' || messageId === '' || messageId.length > MAX_MESSAGE_ID_LENGTH) {
    throw new TypeError(`${where}.messageId must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters`);
  }
  const body = serialise(message.body, `${where}.body`);
  const properties = message.applicationProperties ?? {};
  const props = serialiseProperties(properties, `${where}.applicationProperties`);
  let scheduledAt: number | null = null;
  if (message.scheduledEnqueueTimeUtc !== undefined) {
    const time = message.scheduledEnqueueTimeUtc;
    if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
      throw new TypeError(`${where}.scheduledEnqueueTimeUtc must be a valid Date`);
    }
    scheduledAt = time.getTime();
  }
  const encoded: EncodedMessage = {
    messageId,
    body,
    subject: optionalString(message.subject, `${where}.subject`),
    contentType: optionalString(message.contentType, `${where}.contentType`),
    correlationId: optionalString(message.correlationId, `${where}.correlationId`),
    props,
    properties,
    scheduledAt,
  };
  // A UTF-16 length bounds the UTF-8 size within a factor of 3: most messages skip the count.
  const approx = body.length + (props?.length ?? 0) + messageId.length;
  if (approx * 3 > maxSize) {
    const size = encodedSize(encoded);
    if (size > maxSize) {
      throw new EmbeddedBusError(
        'MessageSizeExceeded',
        `${where} is ${size} bytes; ${entityPath} accepts at most ${maxSize}`,
      );
    }
  }
  return encoded;
}

/** The UTF-8 bytes a message takes: body, properties, id and headers. */
export function encodedSize(message: EncodedMessage): number {
  return (
    Buffer.byteLength(message.body) +
    Buffer.byteLength(message.props ?? '') +
    Buffer.byteLength(message.messageId) +
    Buffer.byteLength(message.subject ?? '') +
    Buffer.byteLength(message.contentType ?? '') +
    Buffer.byteLength(message.correlationId ?? '')
  );
}

/** A stored row as the message a receiver gets, with its delivery count. */
export function decodeMessage(row: MessageRow, deliveryCount: number): ReceivedMessage {
  const message: ReceivedMessage = {
    messageId: row.message_id,
    body: JSON.parse(row.body),
    applicationProperties: row.props === null ? {} : JSON.parse(row.props),
    deliveryCount,
    enqueuedTimeUtc: new Date(row.enqueued_at),
  };
  if (row.subject !== null) message.subject = row.subject;
  if (row.content_type !== null) message.contentType = row.content_type;
  if (row.correlation_id !== null) message.correlationId = row.correlation_id;
  return message;
}

function serialise(value: unknown, where: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${where} is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (json === undefined) throw new TypeError(`${where} is not JSON-serialisable`);
  return json;
}

function serialiseProperties(properties: unknown, where: string): string | null {
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    throw new TypeError(`${where} must be an object`);
  }
  let empty = true;
  for (const [key, value] of Object.entries(properties)) {
    empty = false;
    const ok =
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) throw new TypeError(`${where}.${key} must be a string, a finite number or a boolean`);
  }
  return empty ? null : JSON.stringify(properties);
}

function optionalString(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`${where} must be a string`);
  return value;
}
