/**
 * The event-stream scenarios' webhook receiver (lib/sse.ts), on a worker thread of its own, as the
 * SSE subscribers are (lib/sse-subscribers.ts). A real receiver is another process; on the writers'
 * thread, each POST waited for that thread's turn (1,000 syncs/s and their answers) before it was
 * read and answered, and the host holds a batch's events until the answer comes.
 * Arrivals are epoch ms (performance.timeOrigin + performance.now()), as the writers' acknowledgements.
 *
 * Messages, main → worker (each answered once, with the same `id`):
 *   start              the receiver listens → {url}
 *   secret {secret}    verify deliveries with the subscription's secret
 *   missing {ids}      how many of these event ids have not arrived yet → {missing}
 *   arrivals           → {arrivals: [id, firstAt, count][], unverified, posts, events}
 *   close              the receiver closed
 */
import * as path from 'node:path';
import { startWebhookReceiver, type WebhookReceiver } from '../../tests/helpers/webhook-receiver';
import { serveRequests, WorkerClient } from './worker-rpc';

type Request =
  | { kind: 'start' }
  | { kind: 'secret'; secret: string }
  | { kind: 'missing'; ids: string[] }
  | { kind: 'arrivals' }
  | { kind: 'close' };

export interface ReceiverArrivals {
  /** Per event id: its first arrival (epoch ms) and how many deliveries carried it. */
  arrivals: [string, number, number][];
  /** Deliveries whose signature did not verify. */
  unverified: number;
  /** Accepted POSTs and the events they carried. */
  posts: number;
  events: number;
}

class ReceiverWorker {
  private receiver: WebhookReceiver | undefined;
  private readonly hooks = new Map<string, { at: number; count: number }>();
  private unverified = 0;
  private posts = 0;
  private events = 0;

  async handle(request: Request): Promise<unknown> {
    switch (request.kind) {
      case 'start': {
        this.receiver = await startWebhookReceiver({ parse: false, keepDeliveries: false });
        this.receiver.onDelivery((d) => {
          if (d.verified !== true) this.unverified += 1;
          this.posts += 1;
          this.events += d.eventIds.length;
          // This thread's performance.now() from its own origin: epoch ms, as the acknowledgements.
          const at = performance.timeOrigin + d.receivedAt;
          for (const id of d.eventIds) {
            const seen = this.hooks.get(id);
            if (seen) seen.count += 1;
            else this.hooks.set(id, { at, count: 1 });
          }
        });
        return { url: this.receiver.url };
      }
      case 'secret':
        this.receiver?.setSecret(request.secret);
        return {};
      case 'missing':
        return { missing: request.ids.filter((id) => !this.hooks.has(id)).length };
      case 'arrivals':
        return {
          arrivals: [...this.hooks].map(([id, h]) => [id, h.at, h.count]),
          unverified: this.unverified,
          posts: this.posts,
          events: this.events,
        } satisfies ReceiverArrivals;
      case 'close':
        await this.receiver?.close();
        return {};
    }
  }
}

const ROLE = 'webhook-receiver';

serveRequests<Request>(ROLE, () => {
  const receiver = new ReceiverWorker();
  return (request) => receiver.handle(request);
});

/** The main thread's handle on the receiver's worker. */
export class ReceiverThread {
  private readonly worker = new WorkerClient<Request>(
    path.join(__dirname, 'webhook-receiver-thread.js'),
    ROLE,
  );
  /** `http://127.0.0.1:<port>/hooks`, once started. */
  url = '';

  async start(): Promise<void> {
    this.url = (await this.worker.ask<{ url: string }>({ kind: 'start' })).url;
  }

  setSecret(secret: string): Promise<unknown> {
    return this.worker.ask({ kind: 'secret', secret });
  }

  async missing(ids: string[]): Promise<number> {
    return (await this.worker.ask<{ missing: number }>({ kind: 'missing', ids })).missing;
  }

  arrivals(): Promise<ReceiverArrivals> {
    return this.worker.ask({ kind: 'arrivals' });
  }

  close(): Promise<void> {
    return this.worker.close({ kind: 'close' });
  }
}
