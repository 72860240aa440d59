/**
 * A webhook receiver as a consumer of the bridge would write one: node:http on 127.0.0.1:0 that
 * verifies each delivery with the `standardwebhooks` library and parses it with the `cloudevents`
 * SDK (JSON structured mode). It records every request with its arrival time, and can be told to
 * fail the next N requests (or every request) with 500, to exercise retries and dead letters.
 *
 *   const receiver = await startWebhookReceiver();
 *   const sub = await api.post('/subscriptions', { eventTypes: ['user_update'], url: receiver.url });
 *   receiver.setSecret(sub.body.secret);
 *   const delivery = await receiver.waitFor((d) => d.id === 'user:ann:1');
 *   await receiver.close();
 *
 * Used by the e2e tier and by the bench (so it takes no dependency on jest).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { Webhook } from 'standardwebhooks';

export interface Delivery {
  /** The `webhook-id` header (the CloudEvent id; a batch's own id for a batched delivery). */
  id: string;
  /**
   * The ids of the CloudEvents it carries: `[id]` for a single event; for a batched delivery
   * (`application/cloudevents-batch+json`), the ids in the array ([] when the body is not one).
   */
  eventIds: string[];
  /** `performance.now()` when the request body had fully arrived (same clock as the caller's). */
  receivedAt: number;
  /** The status this receiver answered with. */
  status: number;
  headers: Record<string, string>;
  /** The raw body, byte for byte as sent (the signature covers exactly this). */
  body: string;
  /** True once verified with the subscription's secret; false if verification failed; undefined if no secret yet. */
  verified: boolean | undefined;
  verifyError?: string;
  /** The CloudEvent as the cloudevents SDK parsed it (a batch's first); undefined when parsing failed (see parseError). */
  event: CloudEventV1<unknown> | undefined;
  /** A batched delivery's CloudEvents as the SDK parsed them (with `parse`). */
  events?: CloudEventV1<unknown>[];
  parseError?: string;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hooks` */
  url: string;
  /** Every request, in arrival order (failed ones included: check `status`). */
  readonly deliveries: readonly Delivery[];
  /** Successful (2xx) deliveries only. */
  accepted(): Delivery[];
  /** The subscription's `whsec_` secret; verifies every delivery recorded so far that was not yet verified. */
  setSecret(secret: string): void;
  /** Answer the next `n` requests with 500. */
  failNext(n: number): void;
  /** Answer every request with 500 until called with false. */
  failAlways(on: boolean): void;
  /**
   * Hold each answer this long (0: answer at once). The delivery is recorded on arrival, so a sender
   * that dies meanwhile never learns it was received: what a real consumer sees in a crash.
   */
  delayResponses(ms: number): void;
  /** Called for every accepted (2xx) delivery as it arrives, with its body and headers. */
  onDelivery(listener: (delivery: Delivery) => void): void;
  /** Resolves with the first accepted delivery matching `predicate` (already recorded or yet to come). */
  waitFor(predicate: (delivery: Delivery) => boolean, timeoutMs?: number): Promise<Delivery>;
  /** Resolves once `predicate` holds over the accepted deliveries; rejects after `timeoutMs`. */
  waitUntil(predicate: (accepted: Delivery[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Parse with the cloudevents SDK (default true; the bench turns it off to stay light). */
  parse?: boolean;
  /**
   * Keep every delivery in `deliveries` (default true). The bench turns it off and keeps what it
   * needs from `onDelivery`, so a long run does not hold every body in memory.
   */
  keepDeliveries?: boolean;
}

function flatHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

const BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

/** The ids of a batched body's events ([] when it is not a JSON array of objects with string ids). */
function batchEventIds(body: string): string[] {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!Array.isArray(parsed)) return [];
    return parsed
      .map((e: unknown) => (e as { id?: unknown } | null)?.id)
      .filter((id) => typeof id === 'string');
  } catch {
    return [];
  }
}

function verify(delivery: Delivery, secret: string): void {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers);
    delivery.verified = true;
    delete delivery.verifyError;
  } catch (error) {
    delivery.verified = false;
    delivery.verifyError = (error as Error).message;
  }
}

export async function startWebhookReceiver(options: ReceiverOptions = {}): Promise<WebhookReceiver> {
  const parse = options.parse ?? true;
  const keepDeliveries = options.keepDeliveries ?? true;
  const deliveries: Delivery[] = [];
  const listeners: ((delivery: Delivery) => void)[] = [];
  let secret: string | undefined;
  let failing = 0;
  let failForever = false;
  let delayMs = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receivedAt = performance.now();
      const headers = flatHeaders(req.headers);
      const body = Buffer.concat(chunks).toString('utf8');
      let status = 204;
      if (failForever) status = 500;
      else if (failing > 0) {
        failing -= 1;
        status = 500;
      }
      const batched = (headers['content-type'] ?? '').startsWith(BATCH_CONTENT_TYPE);
      const id = headers['webhook-id'] ?? '';
      const delivery: Delivery = {
        id,
        eventIds: batched ? batchEventIds(body) : [id],
        receivedAt,
        status,
        headers,
        body,
        verified: undefined,
        event: undefined,
      };
      if (secret !== undefined) verify(delivery, secret);
      if (parse) {
        try {
          const parsed = HTTP.toEvent({ headers, body });
          if (Array.isArray(parsed)) delivery.events = parsed as CloudEventV1<unknown>[];
          delivery.event = (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEventV1<unknown>;
        } catch (error) {
          delivery.parseError = (error as Error).message;
        }
      }
      if (keepDeliveries) deliveries.push(delivery);
      if (delayMs > 0) setTimeout(() => res.writeHead(status).end(), delayMs);
      else res.writeHead(status).end();
      if (status < 300) for (const listener of listeners) listener(delivery);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const accepted = () => deliveries.filter((d) => d.status < 300);

  const waitUntil = (predicate: (all: Delivery[]) => boolean, timeoutMs = 5000, what = 'deliveries') =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const tick = () => {
        if (predicate(accepted())) return resolve();
        if (Date.now() > deadline) {
          return reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${accepted().length}`),
          );
        }
        setTimeout(tick, 10);
      };
      tick();
    });

  return {
    url: `http://127.0.0.1:${port}/hooks`,
    deliveries,
    accepted,
    setSecret(value) {
      secret = value;
      for (const d of deliveries) if (d.verified === undefined) verify(d, value);
    },
    failNext(n) {
      failing = n;
    },
    failAlways(on) {
      failForever = on;
    },
    delayResponses(ms) {
      delayMs = ms;
    },
    onDelivery(listener) {
      listeners.push(listener);
    },
    async waitFor(predicate, timeoutMs = 5000) {
      let found: Delivery | undefined;
      await waitUntil((all) => (found = all.find(predicate)) !== undefined, timeoutMs, 'a matching delivery');
      return found as Delivery;
    },
    waitUntil,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
