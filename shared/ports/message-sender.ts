/**
 * MessageSender: the outgoing side of the message bus (Service Bus in Azure, the embedded durable
 * bus locally). Receiving is done by the hosts' Service Bus triggers, not through a port.
 */

import type { OutgoingMessage } from '../domain/bus-message';

export type { OutgoingMessage };

export interface MessageSender {
  /**
   * Sends to a topic or queue; resolves only when the broker has accepted every message (durably).
   * Large arrays are split into broker-sized batches by the adapter.
   */
  send(entity: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** A message as a Service Bus trigger hands it to a function (body plus the metadata we use). */
export interface ReceivedMessage {
  messageId: string;
  body: unknown;
  subject?: string;
  contentType?: string;
  correlationId?: string;
  applicationProperties: Record<string, string | number | boolean>;
  deliveryCount: number;
  enqueuedTimeUtc: Date;
}
