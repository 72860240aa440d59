import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  openEmbeddedBus,
  subscriptionPath,
  type EmbeddedBus,
} from '../../shared/adapters/embedded/embedded-bus';
import { loadConfig } from '../../shared/config';
import { createServices, type Services } from '../../shared/container';
import { BUS_TOPOLOGY, EVENTS_TOPIC } from '../../shared/domain/bus-topology';
import type { BridgeCloudEvent } from '../../shared/domain/cloud-event';
import type { Clock } from '../../shared/ports/clock';
import type { MessageSender } from '../../shared/ports/message-sender';
import type { WebhookTransport } from '../../shared/ports/webhook-transport';
import { TEST_ADMIN_KEY } from './test-services';

/** Records webhook posts and answers with the statuses queued in `answers` (default 200). */
export class RecordingTransport implements WebhookTransport {
  readonly posts: { url: string; headers: Record<string, string>; body: string }[] = [];
  answers: (number | Error)[] = [];
  /** While true, each POST waits (unanswered) until `release()`. */
  holding = false;
  private readonly held: (() => void)[] = [];

  /** Lets every held POST have its answer. */
  release(): void {
    this.holding = false;
    for (const go of this.held.splice(0)) go();
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
    this.posts.push({ url, headers, body });
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    const answer = this.answers.shift() ?? 200;
    if (answer instanceof Error) throw answer;
    return { status: answer };
  }
}

export interface EventHarness {
  services: Services;
  bus: EmbeddedBus;
  transport: RecordingTransport;
  dataDir: string;
  /** Events on a topic subscription, completing them (what a portal would receive). */
  drain(subscription: 'admin-portal' | 'user-portal' | 'webhooks'): Promise<BridgeCloudEvent[]>;
  cleanup(): Promise<void>;
}

/**
 * Real services over a temp-dir store and embedded bus; fast path as configured. `sender` replaces
 * the bus the services send to (the embedded bus is still opened, for `drain`).
 */
export function makeEventHarness(
  env: Record<string, string> = {},
  clock?: Clock,
  options: { bus?: MessageSender } = {},
): EventHarness {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-events-'));
  const config = loadConfig({
    BRIDGE_ADMIN_KEY: TEST_ADMIN_KEY,
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_WEBHOOK_ALLOW_PRIVATE: 'true',
    // The broker path (Azure's): publication to the bus, marks, change feed, sweeper.
    BRIDGE_EVENT_TOPIC: 'bus',
    ...env,
  });
  const bus = openEmbeddedBus(dataDir, BUS_TOPOLOGY, clock ? { clock } : {});
  const transport = new RecordingTransport();
  const services = createServices(config, {
    bus: options.bus ?? bus,
    webhookTransport: transport,
    ...(clock ? { clock } : {}),
  });
  return {
    services,
    bus,
    transport,
    dataDir,
    async drain(subscription) {
      const events: BridgeCloudEvent[] = [];
      for (;;) {
        const batch = await bus.receive(subscriptionPath(EVENTS_TOPIC, subscription), { maxMessages: 100 });
        if (batch.length === 0) return events;
        for (const m of batch) {
          events.push(m.message.body as BridgeCloudEvent);
          await bus.complete(m.lockToken);
        }
      }
    },
    async cleanup() {
      await services.close();
      if (options.bus) await bus.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
