/**
 * ServiceBusMessageSender: the MessageSender port over `@azure/service-bus` v7.
 *
 * - The ServiceBusClient is built once by the composition root ({@link createServiceBusClient}) and
 *   owned by it: `close()` here closes only the per-entity senders this adapter created.
 * - One ServiceBusSender per entity, created on first use and reused (its AMQP link stays open).
 * - `send()` packs messages, in order, into as few `ServiceBusMessageBatch`es as fit the link's
 *   max message size, then sends them one after another, resolving when the broker has accepted
 *   every batch. Packing happens before the first send, so a message that does not fit even an
 *   empty batch fails the call with nothing sent. A failure mid-way leaves the earlier batches
 *   accepted; resending the whole call is safe because duplicate detection keys on `messageId`.
 * - Scheduled messages: `scheduledEnqueueTimeUtc` is set on the message itself, which the SDK
 *   writes as the `x-opt-scheduled-enqueue-time` annotation of each message, so scheduled messages
 *   travel in batches like any other (`ServiceBusSender.scheduleMessages` is a separate request on
 *   the `$management` link, takes one time for all its messages and cannot carry a batch; we do not
 *   need the sequence numbers it returns). Because the SDK copies the *first* message's annotations
 *   onto the batch envelope, a batch never mixes different scheduled times: a change of scheduled
 *   time (or scheduled vs. not) starts a new batch.
 * - Errors become {@link MessageSendError} with the Service Bus code and a `retryable` verdict.
 *   The SDK has already applied its own retry policy (the client's `retryOptions`) by then.
 */
import { DefaultAzureCredential } from '@azure/identity';
import {
  ServiceBusClient,
  isServiceBusError,
  type ServiceBusClientOptions,
  type ServiceBusMessage,
  type ServiceBusMessageBatch,
  type ServiceBusSender,
  type TokenCredential,
} from '@azure/service-bus';
import type { MessageSender, OutgoingMessage } from '../../ports/message-sender';

/**
 * Service Bus error codes (`ServiceBusError.code`) plus two of this adapter's own:
 * `MessageSizeExceeded` is also used for a message too large for an empty batch, and `ClientError`
 * for failures that never reached the service (invalid message, closed sender or client).
 */
export type MessageSendErrorCode =
  | 'ServiceBusy'
  | 'ServiceTimeout'
  | 'ServiceCommunicationProblem'
  | 'QuotaExceeded'
  | 'MessagingEntityNotFound'
  | 'MessagingEntityDisabled'
  | 'UnauthorizedAccess'
  | 'MessageSizeExceeded'
  | 'GeneralError'
  | 'ClientError'
  | (string & {});

/** Codes for which trying again later can succeed without anyone changing configuration. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ServiceBusy', // throttled: back off, then retry
  'ServiceTimeout', // the operation or link timed out
  'ServiceCommunicationProblem', // network / DNS / connection trouble
  'QuotaExceeded', // entity full or too many connections: clears as consumers drain; back off first
]);

export class MessageSendError extends Error {
  override readonly name = 'MessageSendError';

  constructor(
    message: string,
    readonly code: MessageSendErrorCode,
    /** True when the same send may succeed later (after a back-off); false for configuration or input errors. */
    readonly retryable: boolean,
    /** The entity the send was for. */
    readonly entity: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Maps an error thrown by the SDK (or anything else) during a send to a MessageSendError.
 * `GeneralError` keeps the SDK's own transient verdict (e.g. `amqp:internal-error` is retryable).
 */
export function toMessageSendError(err: unknown, entity: string, context = ''): MessageSendError {
  if (err instanceof MessageSendError) return err;
  // After exhausting its retries the SDK throws an AggregateError of every attempt's error: the
  // last one is the current state of affairs.
  if (err instanceof AggregateError && err.errors.length > 0) {
    const attempts = err.errors.length;
    const last = toMessageSendError(err.errors[attempts - 1], entity, `${context} (${attempts} attempts)`);
    return new MessageSendError(last.message, last.code, last.retryable, entity, { cause: err });
  }
  const prefix = `Service Bus send to '${entity}' failed${context}`;
  if (isServiceBusError(err)) {
    const code = err.code;
    const retryable = RETRYABLE_CODES.has(code) || (code === 'GeneralError' && err.retryable === true);
    return new MessageSendError(`${prefix}: ${code}: ${err.message}`, code, retryable, entity, {
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new MessageSendError(`${prefix}: ${message}`, 'ClientError', false, entity, { cause: err });
}

export interface CreateServiceBusClientOptions {
  /** `<namespace>.servicebus.windows.net`: authenticates with `credential` (default DefaultAzureCredential). */
  fullyQualifiedNamespace?: string;
  /** A connection string (emulators, local peers). Takes precedence over `fullyQualifiedNamespace`,
   *  as it does for the Functions Service Bus bindings reading the same settings. */
  connectionString?: string;
  credential?: TokenCredential;
  /** Passed through, e.g. `retryOptions`. */
  clientOptions?: ServiceBusClientOptions;
}

/** Builds the one ServiceBusClient the composition root owns (and closes). */
export function createServiceBusClient(options: CreateServiceBusClientOptions): ServiceBusClient {
  if (options.connectionString) {
    return new ServiceBusClient(options.connectionString, options.clientOptions);
  }
  if (options.fullyQualifiedNamespace) {
    return new ServiceBusClient(
      options.fullyQualifiedNamespace,
      options.credential ?? new DefaultAzureCredential(),
      options.clientOptions,
    );
  }
  throw new TypeError('createServiceBusClient needs a connectionString or a fullyQualifiedNamespace');
}

function toServiceBusMessage(m: OutgoingMessage): ServiceBusMessage {
  const out: ServiceBusMessage = { messageId: m.messageId, body: m.body };
  if (m.subject !== undefined) out.subject = m.subject;
  if (m.contentType !== undefined) out.contentType = m.contentType;
  if (m.correlationId !== undefined) out.correlationId = m.correlationId;
  if (m.applicationProperties !== undefined) out.applicationProperties = { ...m.applicationProperties };
  if (m.scheduledEnqueueTimeUtc !== undefined) out.scheduledEnqueueTimeUtc = m.scheduledEnqueueTimeUtc;
  return out;
}

function scheduleKey(m: OutgoingMessage): number | undefined {
  return m.scheduledEnqueueTimeUtc?.getTime();
}

export class ServiceBusMessageSender implements MessageSender {
  private readonly senders = new Map<string, ServiceBusSender>();
  private closed = false;

  constructor(private readonly client: ServiceBusClient) {}

  async send(entity: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) {
      throw new MessageSendError(
        `Service Bus send to '${entity}' failed: the sender is closed`,
        'ClientError',
        false,
        entity,
      );
    }
    if (messages.length === 0) return;

    let accepted = 0;
    try {
      const sender = this.senderFor(entity);
      // Pack everything first, so an oversized message fails the call before any batch is sent.
      const batches = await this.pack(entity, sender, messages);
      for (const batch of batches) {
        await sender.sendMessages(batch);
        accepted += batch.count;
      }
    } catch (err) {
      const context = accepted > 0 ? ` after ${accepted} of ${messages.length} messages were accepted` : '';
      throw toMessageSendError(err, entity, context);
    }
  }

  private async pack(
    entity: string,
    sender: ServiceBusSender,
    messages: OutgoingMessage[],
  ): Promise<ServiceBusMessageBatch[]> {
    const batches: ServiceBusMessageBatch[] = [];
    let batch: ServiceBusMessageBatch | undefined;
    let batchKey: number | undefined;
    for (const m of messages) {
      const key = scheduleKey(m);
      const sbMessage = toServiceBusMessage(m);
      if (batch && key === batchKey && batch.tryAddMessage(sbMessage)) continue;
      // No batch yet, a different scheduled time, or the current batch is full: start a new one.
      batch = await sender.createMessageBatch();
      batchKey = key;
      batches.push(batch);
      if (!batch.tryAddMessage(sbMessage)) {
        throw new MessageSendError(
          `Service Bus send to '${entity}' failed: message '${m.messageId}' does not fit in an empty batch ` +
            `(the entity's maximum message size is ${batch.maxSizeInBytes} bytes); nothing was sent`,
          'MessageSizeExceeded',
          false,
          entity,
        );
      }
    }
    return batches;
  }

  /** Closes the per-entity senders (not the client, which the composition root owns). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const senders = [...this.senders.values()];
    this.senders.clear();
    await Promise.all(senders.map((s) => s.close()));
  }

  private senderFor(entity: string): ServiceBusSender {
    let sender = this.senders.get(entity);
    if (!sender) {
      sender = this.client.createSender(entity);
      this.senders.set(entity, sender);
    }
    return sender;
  }
}
