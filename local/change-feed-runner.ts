import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { toCosmosItem } from '../shared/adapters/cosmos-item';
import type { DocumentStore } from '../shared/ports/document-store';
import type { Registration } from './function-registry';

export interface ChangeFeedRunnerOptions {
  store: DocumentStore;
  /** The monitored container (resolved containerName). */
  container: string;
  /** Where the lease (checkpoint) lives (resolved leaseContainerName). */
  leaseContainer: string;
  log: (level: string, message: string) => void;
}

interface Lease {
  continuation: string;
}

/**
 * Drives an app.cosmosDB registration from the embedded store's change feed, like the Cosmos DB
 * trigger: poll every feedPollDelay ms, hand over at most maxItemsPerInvocation items, and
 * checkpoint the lease after each invocation, even when the handler threw (as the real trigger does).
 */
export class ChangeFeedRunner {
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private idle?: Promise<void>;
  private readonly pollDelayMs: number;
  private readonly maxItems: number;

  constructor(
    private readonly registration: Registration,
    private readonly options: ChangeFeedRunnerOptions,
  ) {
    this.pollDelayMs = Number(registration.options.feedPollDelay ?? 5000);
    this.maxItems = Number(registration.options.maxItemsPerInvocation ?? 100);
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops polling and waits for the current invocation to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.idle = this.poll();
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let more = false;
    try {
      more = await this.pollOnce();
    } catch (error) {
      this.options.log('error', `${this.registration.name}: change feed read failed: ${String(error)}`);
    } finally {
      this.running = false;
      this.schedule(more ? 0 : this.pollDelayMs);
    }
  }

  /** One read-invoke-checkpoint round; true when the page was full (more may be waiting). */
  async pollOnce(): Promise<boolean> {
    const { store, container, leaseContainer } = this.options;
    const leasePk = `lease:${this.registration.name}`;
    const lease = await store.read<Lease>(leaseContainer, leasePk, 'lease');
    const startFromBeginning = this.registration.options.startFromBeginning === true;
    let continuation = lease?.body.continuation;
    if (continuation === undefined && !startFromBeginning) {
      // Like the real trigger without startFromBeginning: only changes from now on.
      continuation = (await store.changeFeed(container, { continuation: undefined, maxItems: 1_000_000 }))
        .continuation;
    }
    const page = await store.changeFeed(container, { continuation, maxItems: this.maxItems });
    if (page.items.length > 0) {
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: this.registration.name,
        logHandler: (level, ...args) =>
          this.options.log(level, `${this.registration.name}: ${args.map(String).join(' ')}`),
      });
      try {
        await this.registration.options.handler(page.items.map(toCosmosItem), context);
      } catch (error) {
        this.options.log(
          'error',
          `${this.registration.name} failed (the lease still moves on, as in Azure): ${String(error)}`,
        );
      }
    }
    if (page.continuation !== continuation) {
      await store.upsert(leaseContainer, leasePk, {
        id: 'lease',
        type: 'lease',
        body: { continuation: page.continuation } satisfies Lease,
      });
    }
    return page.items.length >= this.maxItems;
  }
}
