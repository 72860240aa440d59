/**
 * A minimal AMQP 1.0 peer (built on `rhea`) that stands in for a Service Bus namespace on loopback,
 * good enough for the `@azure/service-bus` v7 *sender* path. It is a test double, not a broker:
 * nothing is stored beyond an in-memory record of what arrived, and nothing can be received.
 *
 * What it does:
 * - listens on 127.0.0.1 on a free port, plain TCP, SASL ANONYMOUS (rhea's server default, which
 *   is what the SDK's client offers); {@link AmqpPeer.connectionString} returns a connection string
 *   with `UseDevelopmentEmulator=true`, which makes the SDK connect without TLS to the given port;
 * - answers CBS `put-token` requests on the `$cbs` node with `status-code` 202 (or a configured
 *   failure status, see {@link AmqpPeer.failCbs}); the reply goes to the link named by the
 *   request's `reply_to`, with `correlation_id` = the request's `message_id`;
 * - accepts sender links whose target is a known entity, advertising `max_message_size` (256 KiB by
 *   default, the Standard tier limit) and granting credit; links to unknown entities are refused
 *   with `amqp:not-found` and the description Service Bus uses, so the SDK reports
 *   `MessagingEntityNotFound`;
 * - records every transfer (format, size, outcome) and every message in it: batched transfers
 *   (message format 0x80013700, one envelope whose body is a list of data sections, each an encoded
 *   AMQP message) are decoded into their individual messages;
 * - settles transfers as accepted, or rejects the next N with a given AMQP error condition
 *   ({@link AmqpPeer.failNextTransfers}).
 *
 * What it does not do: TLS, SASL PLAIN/EXTERNAL, token validation, the `$management` node
 * (`scheduleMessages`, peek, sequence numbers), receiving or settlement from the client side,
 * sessions, transactions, duplicate detection, topics' subscriptions or filters.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
// Named imports on purpose: rhea's module.exports is a Container *instance* whose methods live on
// its prototype, which `import * as` (esModuleInterop's __importStar) would not copy.
import {
  create_container,
  message as amqpMessage,
  type AmqpError,
  type Connection,
  type Delivery,
  type EventContext,
  type Message,
  type Sender,
} from 'rhea';

/** The message format the SDK uses for a `ServiceBusMessageBatch` transfer (Microsoft's batch format). */
export const BATCH_MESSAGE_FORMAT = 0x80013700;
/** The message annotation carrying a message's scheduled enqueue time. */
export const SCHEDULED_ENQUEUE_TIME_ANNOTATION = 'x-opt-scheduled-enqueue-time';

/** One message as it arrived, after unpacking a batch. */
export interface PeerMessage {
  entity: string;
  messageId: unknown;
  /** The data-section body decoded as UTF-8 JSON when it parses, else as a string; amqp-value bodies as-is. */
  body: unknown;
  /** The raw data-section bytes (undefined for amqp-value / amqp-sequence bodies). */
  rawBody?: Buffer;
  subject?: string;
  contentType?: string;
  correlationId?: unknown;
  applicationProperties: Record<string, unknown>;
  messageAnnotations: Record<string, unknown>;
  /** The `x-opt-scheduled-enqueue-time` annotation, when present. */
  scheduledEnqueueTimeUtc?: Date;
  /** Index into {@link AmqpPeer.transfers} of the transfer that carried this message. */
  transferIndex: number;
}

export interface PeerTransfer {
  entity: string;
  format: number;
  sizeInBytes: number;
  messageCount: number;
  outcome: 'accepted' | 'rejected';
  error?: AmqpError;
}

export interface CbsRequest {
  audience: unknown;
  tokenType: unknown;
}

export interface AmqpPeerOptions {
  /** Queue/topic names that accept sender links. Others are refused with `amqp:not-found`. */
  entities?: readonly string[];
  /** Advertised on accepted sender links; the SDK sizes its batches by it. Default 256 KiB. */
  maxMessageSize?: number;
}

/** A decoded AMQP message as rhea represents it: sections and properties as plain fields. */
type AmqpMessage = Record<string, unknown>;

function decode(buffer: Buffer): AmqpMessage {
  return amqpMessage.decode(buffer) as unknown as AmqpMessage;
}

interface LinkInternals {
  local: { attach: { max_message_size?: number } };
}

function isBufferLike(value: unknown): value is Buffer {
  return Buffer.isBuffer(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? { ...(value as Record<string, unknown>) } : {};
}

/** rhea decodes a data section into `{ typecode: 0x75, content: Buffer | Buffer[], multiple? }`. */
function dataSectionBuffers(body: unknown): Buffer[] | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const section = body as { typecode?: unknown; content?: unknown };
  if (section.typecode !== 0x75) return undefined;
  if (Array.isArray(section.content)) return section.content.filter(isBufferLike);
  return isBufferLike(section.content) ? [section.content] : undefined;
}

function decodeBody(body: unknown): { body: unknown; rawBody?: Buffer } {
  const buffers = dataSectionBuffers(body);
  if (!buffers) {
    const section = body as { typecode?: unknown; content?: unknown } | undefined;
    return { body: section && typeof section === 'object' && 'typecode' in section ? section.content : body };
  }
  const rawBody = Buffer.concat(buffers);
  const text = rawBody.toString('utf8');
  try {
    return { body: JSON.parse(text) as unknown, rawBody };
  } catch {
    return { body: text, rawBody };
  }
}

/** Strips `sb://host/` and a leading slash, so `sb://ns/bridge-events` and `bridge-events` match. */
function entityFromAddress(address: unknown): string {
  if (typeof address !== 'string') return '';
  return address.replace(/^[a-z]+:\/\/[^/]+\//i, '').replace(/^\/+/, '');
}

export class AmqpPeer {
  /** Every transfer on an entity link, in arrival order. */
  readonly transfers: PeerTransfer[] = [];
  /** Every message accepted on an entity link (batches unpacked), in arrival order. */
  readonly messages: PeerMessage[] = [];
  /** Every CBS put-token request seen. */
  readonly cbsRequests: CbsRequest[] = [];

  private readonly entities: Set<string>;
  private readonly maxMessageSize: number;
  private readonly container = create_container({ id: 'amqp-test-peer', autoaccept: false });
  private readonly connections = new Set<Connection>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private pendingFailures: { remaining: number; error: AmqpError } = {
    remaining: 0,
    error: { condition: '' },
  };
  private cbsStatus: { code: number; description: string } = { code: 202, description: 'Accepted' };
  private readonly cbsOutbox = new Map<Sender, AmqpMessage[]>();
  private listeningPort = 0;

  private constructor(options: AmqpPeerOptions) {
    this.entities = new Set(options.entities ?? []);
    this.maxMessageSize = options.maxMessageSize ?? 256 * 1024;
    this.wire();
  }

  /** Starts a peer on 127.0.0.1 on a free port. */
  static async start(options: AmqpPeerOptions = {}): Promise<AmqpPeer> {
    const peer = new AmqpPeer(options);
    await peer.listen();
    return peer;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** A connection string for `new ServiceBusClient(...)`: plain TCP to this peer. */
  connectionString(): string {
    return `Endpoint=sb://127.0.0.1:${this.port};SharedAccessKeyName=x;SharedAccessKey=y;UseDevelopmentEmulator=true`;
  }

  addEntity(name: string): void {
    this.entities.add(name);
  }

  messagesFor(entity: string): PeerMessage[] {
    return this.messages.filter((m) => m.entity === entity);
  }

  transfersFor(entity: string): PeerTransfer[] {
    return this.transfers.filter((t) => t.entity === entity);
  }

  /** Rejects the next `count` entity transfers with this AMQP error (e.g. `com.microsoft:server-busy`). */
  failNextTransfers(count: number, condition: string, description = `test peer: ${condition}`): void {
    this.pendingFailures = { remaining: count, error: { condition, description } };
  }

  /** Answers subsequent put-token requests with this status (e.g. 401); `failCbs(202)` restores success. */
  failCbs(statusCode: number, description = 'test peer: put-token refused'): void {
    this.cbsStatus = { code: statusCode, description: statusCode === 202 ? 'Accepted' : description };
  }

  /** Forgets recorded traffic and injected failures (entities stay). */
  reset(): void {
    this.transfers.length = 0;
    this.messages.length = 0;
    this.cbsRequests.length = 0;
    this.pendingFailures = { remaining: 0, error: { condition: '' } };
    this.cbsStatus = { code: 202, description: 'Accepted' };
  }

  /** Connections currently open from clients (a closed client leaves none). */
  get openConnectionCount(): number {
    return this.connections.size;
  }

  /** Closes client connections and the listening socket. */
  async stop(): Promise<void> {
    for (const connection of this.connections) connection.close();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Give the close frames a moment to flush, then drop whatever is still attached.
      setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, 50).unref();
    });
  }

  private async listen(): Promise<void> {
    const server = this.container.listen({ host: '127.0.0.1', port: 0 });
    this.server = server;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.listeningPort = (server.address() as AddressInfo).port;
  }

  private wire(): void {
    const c = this.container;
    c.on('connection_open', (ctx: EventContext) => this.connections.add(ctx.connection));
    const forget = (ctx: EventContext): void => {
      this.connections.delete(ctx.connection);
      for (const sender of this.cbsOutbox.keys()) {
        if (sender.connection === ctx.connection) this.cbsOutbox.delete(sender);
      }
    };
    c.on('connection_close', forget);
    c.on('disconnected', forget);
    // A client whose socket drops is not an error for the peer.
    c.on('error', () => undefined);

    // The client's sender links arrive here as our receivers.
    c.on('receiver_open', (ctx: EventContext) => {
      const receiver = ctx.receiver;
      if (!receiver) return;
      const address = entityFromAddress(receiver.target?.address);
      if (address !== '$cbs' && !this.entities.has(address)) {
        // Refusal as the spec describes it: an attach with a null target, then a detach with the error.
        receiver.close({
          condition: 'amqp:not-found',
          description: `The messaging entity 'sb://127.0.0.1:${this.port}/${address}' could not be found. (test peer)`,
        });
        return;
      }
      receiver.set_target({ address: receiver.target?.address ?? '' });
      if (address === '$cbs') return;
      (receiver as unknown as LinkInternals).local.attach.max_message_size = this.maxMessageSize;
    });

    // The client's receiver links arrive here as our senders: only the CBS reply link is served.
    c.on('sender_open', (ctx: EventContext) => {
      const sender = ctx.sender;
      if (!sender) return;
      if (entityFromAddress(sender.source?.address) !== '$cbs') {
        sender.close({
          condition: 'amqp:not-implemented',
          description: 'test peer: receiving is not supported',
        });
        return;
      }
      sender.set_source({ address: sender.source?.address ?? '' });
    });
    c.on('sendable', (ctx: EventContext) => {
      if (ctx.sender) this.flushCbs(ctx.sender);
    });

    c.on('message', (ctx: EventContext) => {
      const receiver = ctx.receiver;
      const delivery = ctx.delivery;
      if (!receiver || !delivery) return;
      const address = entityFromAddress(receiver.target?.address);
      if (address === '$cbs') {
        this.onCbsRequest(ctx.connection, ctx.message as AmqpMessage | undefined);
        delivery.accept();
        return;
      }
      this.onEntityTransfer(address, ctx, delivery);
    });
  }

  private onCbsRequest(connection: Connection, request: AmqpMessage | undefined): void {
    if (!request) return;
    const props = asRecord(request.application_properties);
    this.cbsRequests.push({ audience: props.name, tokenType: props.type });
    const replyTo: unknown = request.reply_to;
    const sender = connection.find_sender((s: Sender) => s.name === replyTo);
    if (!sender) return;
    const reply: AmqpMessage = {
      to: replyTo,
      correlation_id: request.message_id,
      application_properties: {
        'status-code': this.cbsStatus.code,
        'status-description': this.cbsStatus.description,
      },
    };
    const queue = this.cbsOutbox.get(sender) ?? [];
    queue.push(reply);
    this.cbsOutbox.set(sender, queue);
    this.flushCbs(sender);
  }

  private flushCbs(sender: Sender): void {
    const queue = this.cbsOutbox.get(sender);
    while (queue && queue.length > 0 && sender.sendable()) {
      const next = queue.shift();
      if (next) sender.send(next as unknown as Message);
    }
  }

  private onEntityTransfer(entity: string, ctx: EventContext, delivery: Delivery): void {
    const format = delivery.format ?? 0;
    // rhea hands non-zero formats over undecoded (a Buffer); format 0 arrives decoded.
    const raw: unknown = ctx.message;
    const envelope = isBufferLike(raw) ? decode(raw) : (raw as AmqpMessage);
    const sizeInBytes = isBufferLike(raw) ? raw.length : amqpMessage.encode(envelope).length;

    const inner: AmqpMessage[] =
      format === BATCH_MESSAGE_FORMAT ? (dataSectionBuffers(envelope.body) ?? []).map(decode) : [envelope];

    const transferIndex = this.transfers.length;
    if (this.pendingFailures.remaining > 0) {
      this.pendingFailures.remaining -= 1;
      const error = { ...this.pendingFailures.error };
      this.transfers.push({
        entity,
        format,
        sizeInBytes,
        messageCount: inner.length,
        outcome: 'rejected',
        error,
      });
      delivery.reject(error);
      return;
    }
    this.transfers.push({ entity, format, sizeInBytes, messageCount: inner.length, outcome: 'accepted' });
    for (const m of inner) this.messages.push(this.toPeerMessage(entity, m, transferIndex));
    delivery.accept();
  }

  private toPeerMessage(entity: string, m: AmqpMessage, transferIndex: number): PeerMessage {
    const annotations = asRecord(m.message_annotations);
    const scheduled = annotations[SCHEDULED_ENQUEUE_TIME_ANNOTATION];
    const { body, rawBody } = decodeBody(m.body);
    const out: PeerMessage = {
      entity,
      messageId: m.message_id,
      body,
      applicationProperties: asRecord(m.application_properties),
      messageAnnotations: annotations,
      transferIndex,
    };
    if (rawBody) out.rawBody = rawBody;
    if (typeof m.subject === 'string') out.subject = m.subject;
    if (typeof m.content_type === 'string') out.contentType = m.content_type;
    if (m.correlation_id !== undefined) out.correlationId = m.correlation_id;
    if (scheduled instanceof Date) out.scheduledEnqueueTimeUtc = scheduled;
    else if (typeof scheduled === 'number') out.scheduledEnqueueTimeUtc = new Date(scheduled);
    return out;
  }
}
