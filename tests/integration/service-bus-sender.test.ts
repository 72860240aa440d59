/**
 * ServiceBusMessageSender against a real ServiceBusClient speaking AMQP 1.0 to a loopback peer
 * (tests/helpers/amqp-peer): CBS, link attach, batching, error mapping and clean shutdown.
 */
import type { ServiceBusClient } from '@azure/service-bus';
import {
  MessageSendError,
  ServiceBusMessageSender,
  createServiceBusClient,
} from '../../shared/adapters/azure/service-bus-sender';
import { COMMANDS_QUEUE, EVENTS_TOPIC, WEBHOOK_RETRY_QUEUE } from '../../shared/domain/bus-topology';
import type { OutgoingMessage } from '../../shared/ports/message-sender';
import { AmqpPeer, BATCH_MESSAGE_FORMAT, SCHEDULED_ENQUEUE_TIME_ANNOTATION } from '../helpers/amqp-peer';

const MAX_MESSAGE_SIZE = 64 * 1024;

function socketAndServerHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap');
}

function cloudEvent(i: number, padding = 0): OutgoingMessage {
  const id = `evt-${String(i).padStart(4, '0')}`;
  return {
    messageId: id,
    body: {
      specversion: '1.0',
      id,
      source: `/bridge/users/u${i}`,
      type: 'user_update',
      data: { i, pad: 'x'.repeat(padding) },
    },
    subject: 'user_update',
    contentType: 'application/cloudevents+json',
    applicationProperties: { eventType: 'user_update' },
  };
}

async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

async function sendError(p: Promise<unknown>): Promise<MessageSendError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MessageSendError) return err;
    throw err;
  }
  throw new Error('expected the send to fail');
}

describe('ServiceBusMessageSender over AMQP (loopback peer)', () => {
  let peer: AmqpPeer;
  let client: ServiceBusClient;
  let sender: ServiceBusMessageSender;
  let baselineHandles: number;

  beforeAll(async () => {
    baselineHandles = socketAndServerHandles().length;
    peer = await AmqpPeer.start({
      entities: [EVENTS_TOPIC, COMMANDS_QUEUE],
      maxMessageSize: MAX_MESSAGE_SIZE,
    });
    client = createServiceBusClient({
      connectionString: peer.connectionString(),
      // The SDK's default retry delay is 30 s; keep its retries quick here.
      clientOptions: { retryOptions: { maxRetries: 2, retryDelayInMs: 20, timeoutInMs: 5000 } },
    });
    sender = new ServiceBusMessageSender(client);
  });

  afterEach(() => peer.reset());

  afterAll(async () => {
    // Normally done by the last test; this is the safety net when it failed half-way.
    await sender?.close();
    await client?.close();
    await peer?.stop();
  });

  it('delivers a single message with every property and a JSON body that round-trips', async () => {
    const body = {
      specversion: '1.0',
      id: 'evt-1',
      nested: { list: [1, 'two', null, true], n: 1.5 },
      s: 'ü€',
    };
    const scheduled = new Date(Date.now() + 60_000);
    await sender.send(EVENTS_TOPIC, [
      {
        messageId: 'evt-1',
        body,
        subject: 'state_change',
        contentType: 'application/cloudevents+json',
        correlationId: 'corr-1',
        applicationProperties: { eventType: 'state_change', sequence: 42, replay: false },
        scheduledEnqueueTimeUtc: scheduled,
      },
    ]);

    expect(peer.cbsRequests.length).toBeGreaterThanOrEqual(1);
    expect(String(peer.cbsRequests[0]?.audience)).toContain(EVENTS_TOPIC);
    expect(peer.transfers).toHaveLength(1);
    expect(peer.transfers[0]?.format).toBe(BATCH_MESSAGE_FORMAT);
    expect(peer.messages).toHaveLength(1);
    const m = peer.messages[0];
    expect(m).toMatchObject({
      entity: EVENTS_TOPIC,
      messageId: 'evt-1',
      subject: 'state_change',
      contentType: 'application/cloudevents+json',
      correlationId: 'corr-1',
      applicationProperties: { eventType: 'state_change', sequence: 42, replay: false },
    });
    expect(m?.body).toEqual(body);
    expect(JSON.parse(m?.rawBody?.toString('utf8') ?? 'null')).toEqual(body);
    expect(m?.scheduledEnqueueTimeUtc?.getTime()).toBe(scheduled.getTime());
  });

  it('sends 250 messages in a few batches, all arriving in order', async () => {
    const messages = Array.from({ length: 250 }, (_, i) => cloudEvent(i, 1000));
    await sender.send(EVENTS_TOPIC, messages);

    const transfers = peer.transfersFor(EVENTS_TOPIC);
    expect(transfers.length).toBeGreaterThan(1);
    expect(transfers.length).toBeLessThan(250);
    // ~1.3 KB each into 64 KiB batches: about five transfers.
    expect(transfers.length).toBeLessThanOrEqual(8);
    for (const t of transfers) {
      expect(t.format).toBe(BATCH_MESSAGE_FORMAT);
      expect(t.sizeInBytes).toBeLessThanOrEqual(MAX_MESSAGE_SIZE);
    }
    expect(transfers.reduce((n, t) => n + t.messageCount, 0)).toBe(250);
    expect(peer.messagesFor(EVENTS_TOPIC).map((m) => m.messageId)).toEqual(messages.map((m) => m.messageId));
    expect(peer.messages[249]?.body).toMatchObject({ id: 'evt-0249', data: { i: 249 } });
  });

  it('keeps the eventType application property the subscriptions filter on', async () => {
    await sender.send(EVENTS_TOPIC, [
      { messageId: 'a', body: {}, applicationProperties: { eventType: 'user_delete' } },
      { messageId: 'b', body: {}, applicationProperties: { eventType: 'analysis_complete', attempt: 2 } },
    ]);
    expect(peer.messages.map((m) => m.applicationProperties)).toEqual([
      { eventType: 'user_delete' },
      { eventType: 'analysis_complete', attempt: 2 },
    ]);
  });

  it('carries a scheduled time per message and never mixes scheduled times in one batch', async () => {
    const at = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
    await sender.send(COMMANDS_QUEUE, [
      { messageId: 'now-1', body: 1 },
      { messageId: 'later', body: 2, scheduledEnqueueTimeUtc: at },
      { messageId: 'now-2', body: 3 },
    ]);
    const received = peer.messagesFor(COMMANDS_QUEUE);
    expect(received.map((m) => m.messageId)).toEqual(['now-1', 'later', 'now-2']);
    expect(received[0]?.scheduledEnqueueTimeUtc).toBeUndefined();
    expect(received[1]?.scheduledEnqueueTimeUtc?.toISOString()).toBe(at.toISOString());
    expect(received[1]?.messageAnnotations[SCHEDULED_ENQUEUE_TIME_ANNOTATION]).toBeInstanceOf(Date);
    expect(received[2]?.scheduledEnqueueTimeUtc).toBeUndefined();
    expect(peer.transfers).toHaveLength(3);
  });

  it('rides out one server-busy rejection through the SDK retry', async () => {
    peer.failNextTransfers(1, 'com.microsoft:server-busy');
    await sender.send(EVENTS_TOPIC, [cloudEvent(1)]);
    expect(peer.transfers.map((t) => t.outcome)).toEqual(['rejected', 'accepted']);
    expect(peer.messages.map((m) => m.messageId)).toEqual(['evt-0001']);
  });

  it('maps persistent server-busy to a retryable MessageSendError', async () => {
    peer.failNextTransfers(10, 'com.microsoft:server-busy');
    const err = await sendError(sender.send(EVENTS_TOPIC, [cloudEvent(1)]));
    expect(err).toMatchObject({
      name: 'MessageSendError',
      code: 'ServiceBusy',
      retryable: true,
      entity: EVENTS_TOPIC,
    });
    // maxRetries 2: three attempts, then the error surfaces.
    expect(peer.transfers).toHaveLength(3);
    expect(peer.messages).toHaveLength(0);
  });

  it('maps quota-exceeded to QuotaExceeded (retryable after a back-off)', async () => {
    peer.failNextTransfers(1, 'amqp:resource-limit-exceeded');
    const err = await sendError(sender.send(EVENTS_TOPIC, [cloudEvent(1)]));
    expect(err).toMatchObject({ code: 'QuotaExceeded', retryable: true });
    // Not retried by the SDK (it treats quota as non-transient): one attempt.
    expect(peer.transfers).toHaveLength(1);
  });

  it('maps an unknown entity to a non-retryable MessagingEntityNotFound', async () => {
    const err = await sendError(sender.send('no-such-topic', [cloudEvent(1)]));
    expect(err).toMatchObject({ code: 'MessagingEntityNotFound', retryable: false, entity: 'no-such-topic' });
    expect(err.message).toContain('no-such-topic');
    expect(peer.messages).toHaveLength(0);
  });

  it('maps a refused put-token to a non-retryable UnauthorizedAccess', async () => {
    peer.addEntity(WEBHOOK_RETRY_QUEUE);
    peer.failCbs(401);
    const err = await sendError(sender.send(WEBHOOK_RETRY_QUEUE, [cloudEvent(1)]));
    expect(err).toMatchObject({ code: 'UnauthorizedAccess', retryable: false });
    peer.failCbs(202);
    await sender.send(WEBHOOK_RETRY_QUEUE, [cloudEvent(2)]);
    expect(peer.messagesFor(WEBHOOK_RETRY_QUEUE).map((m) => m.messageId)).toEqual(['evt-0002']);
  });

  it('rejects a message too large for an empty batch by its messageId, sending nothing', async () => {
    const err = await sendError(
      sender.send(EVENTS_TOPIC, [
        cloudEvent(1),
        { messageId: 'huge-one', body: 'x'.repeat(MAX_MESSAGE_SIZE) },
      ]),
    );
    expect(err).toMatchObject({ code: 'MessageSizeExceeded', retryable: false });
    expect(err.message).toContain("'huge-one'");
    expect(peer.transfers).toHaveLength(0);
  });

  it('close() then client.close() leaves no connection, socket or timer behind', async () => {
    await sender.send(EVENTS_TOPIC, [cloudEvent(1)]);
    expect(peer.openConnectionCount).toBe(1);

    await sender.close();
    await sender.close(); // idempotent
    await expect(sender.send(EVENTS_TOPIC, [cloudEvent(2)])).rejects.toMatchObject({
      code: 'ClientError',
      retryable: false,
    });
    await client.close();

    await eventually(() => peer.openConnectionCount === 0);
    expect(peer.openConnectionCount).toBe(0);
    await peer.stop();
    // Socket handles are released a tick or two after their 'close'.
    await eventually(() => socketAndServerHandles().length === baselineHandles);
    expect(socketAndServerHandles()).toHaveLength(baselineHandles);
  });
});
