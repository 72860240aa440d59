/**
 * A message for the bus, as the domain builds it (events, commands, webhook retries). The
 * MessageSender port sends it; Service Bus and the embedded bus both keep these fields.
 */
export interface OutgoingMessage {
  /** Duplicate detection key: a second message with the same id inside the window is dropped. */
  messageId: string;
  body: unknown;
  subject?: string;
  contentType?: string;
  correlationId?: string;
  applicationProperties?: Record<string, string | number | boolean>;
  /** Deliver no earlier than this (Service Bus scheduled messages). */
  scheduledEnqueueTimeUtc?: Date;
}
