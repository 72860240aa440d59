import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import {
  subscriptionPath,
  type EmbeddedBus,
  type LockedMessage,
} from '../shared/adapters/embedded/embedded-bus';
import { BUS_TOPOLOGY, type SubscriptionSpec } from '../shared/domain/bus-topology';
import type { Registration } from './function-registry';

export interface ServiceBusRunnerOptions {
  bus: EmbeddedBus;
  /** Calls at once (host.json serviceBus.maxConcurrentCalls); a batch is one call. */
  maxConcurrentCalls: number;
  /** Most messages in one call of a `cardinality: 'many'` function (host.json serviceBus.maxMessageBatchSize). */
  maxMessageBatchSize: number;
  log: (level: string, message: string) => void;
}

/** The topic subscription a serviceBusTopic trigger listens on, from the topology. */
export function triggerSubscription(registration: Registration): {
  topic: string;
  subscription: SubscriptionSpec;
} {
  const o = registration.options as { topicName?: string; subscriptionName?: string };
  const topic = BUS_TOPOLOGY.topics.find((t) => t.name === o.topicName);
  const subscription = topic?.subscriptions.find((s) => s.name === o.subscriptionName);
  if (registration.trigger !== 'serviceBusTopic' || !topic || !subscription)
    throw new Error(`${registration.name}: ${o.topicName}/${o.subscriptionName} is not in the bus topology`);
  return { topic: topic.name, subscription };
}

/** A batch's trigger metadata: each field as `<name>Array`, one entry per message, as the trigger names them. */
export function batchMetadata(messages: Record<string, unknown>[]): Record<string, unknown[]> {
  const batch: Record<string, unknown[]> = {};
  for (const metadata of messages)
    for (const [key, value] of Object.entries(metadata)) (batch[`${key}Array`] ??= []).push(value);
  return batch;
}

/** The entity a Service Bus trigger listens on, and its delivery limit from the topology. */
export function triggerEntity(registration: Registration): { path: string; maxDeliveryCount: number } {
  const o = registration.options as { queueName?: string; topicName?: string; subscriptionName?: string };
  if (registration.trigger === 'serviceBusQueue' && o.queueName) {
    const queue = BUS_TOPOLOGY.queues.find((q) => q.name === o.queueName);
    if (!queue) throw new Error(`${registration.name}: queue ${o.queueName} is not in the bus topology`);
    return { path: o.queueName, maxDeliveryCount: queue.maxDeliveryCount };
  }
  const topic = BUS_TOPOLOGY.topics.find((t) => t.name === o.topicName);
  const subscription = topic?.subscriptions.find((s) => s.name === o.subscriptionName);
  if (!topic || !subscription)
    throw new Error(`${registration.name}: ${o.topicName}/${o.subscriptionName} is not in the bus topology`);
  return {
    path: subscriptionPath(topic.name, subscription.name),
    maxDeliveryCount: subscription.maxDeliveryCount,
  };
}

/**
 * Drives an app.serviceBusQueue / app.serviceBusTopic registration from the embedded bus with the
 * trigger's peek-lock semantics: complete when the handler returns, abandon when it throws, and at
 * the entity's delivery limit dead-letter with reason MaxDeliveryCountExceeded and the last error.
 * A `cardinality: 'many'` function gets the messages it can take in one call (bodies in order,
 * metadata as arrays), and the call's outcome settles every message of it, as the trigger does.
 */
export class ServiceBusRunner {
  private readonly entity: { path: string; maxDeliveryCount: number };
  private readonly many: boolean;
  private inFlight = 0;
  private draining = false;
  private wanted = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private readonly active = new Set<Promise<void>>();

  constructor(
    private readonly registration: Registration,
    private readonly options: ServiceBusRunnerOptions,
  ) {
    this.entity = triggerEntity(registration);
    this.many = registration.options.cardinality === 'many';
  }

  start(): void {
    this.unsubscribe = this.options.bus.onAvailable(this.entity.path, () => this.kick());
    this.kick(); // messages left from before a restart
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await Promise.allSettled([...this.active]);
  }

  private kick(): void {
    this.wanted = true;
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.wanted && !this.stopped) {
        this.wanted = false;
        for (;;) {
          const calls = this.options.maxConcurrentCalls - this.inFlight;
          if (calls <= 0 || this.stopped) break;
          const room = this.many ? this.options.maxMessageBatchSize : calls;
          const batch = await this.options.bus.receive(this.entity.path, { maxMessages: room });
          if (batch.length === 0) break;
          if (this.many) this.track(this.handle(batch));
          else for (const locked of batch) this.track(this.handle([locked]));
          if (batch.length < room) break;
        }
      }
    } catch (error) {
      this.options.log('error', `${this.registration.name}: receive failed: ${String(error)}`);
    } finally {
      this.draining = false;
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight += 1;
    this.active.add(work);
    void work.finally(() => {
      this.inFlight -= 1;
      this.active.delete(work);
      this.kick(); // a slot is free: take the next message
    });
  }

  /** One call with `messages` (one, or a batch): all completed when it returns, all abandoned when it throws. */
  private async handle(messages: LockedMessage[]): Promise<void> {
    const metadata = messages.map((locked) => {
      const m = locked.message;
      return {
        messageId: m.messageId,
        deliveryCount: m.deliveryCount,
        enqueuedTimeUtc: m.enqueuedTimeUtc.toISOString(),
        sequenceNumber: locked.sequenceNumber,
        subject: m.subject,
        contentType: m.contentType,
        correlationId: m.correlationId,
        applicationProperties: m.applicationProperties,
      };
    });
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: this.registration.name,
      triggerMetadata: this.many ? batchMetadata(metadata) : (metadata[0] as Record<string, unknown>),
      logHandler: (level, ...args) =>
        this.options.log(level, `${this.registration.name}: ${args.map(String).join(' ')}`),
    });
    const bodies = messages.map((locked) => locked.message.body);
    let failure: unknown;
    try {
      await this.registration.options.handler(this.many ? bodies : bodies[0], context);
    } catch (error) {
      failure = error ?? new Error('the function failed');
    }
    await Promise.all(messages.map((locked) => this.settle(locked, failure)));
  }

  private async settle(locked: LockedMessage, failure: unknown): Promise<void> {
    const m = locked.message;
    const { bus } = this.options;
    let error = failure;
    if (error === undefined) {
      try {
        return await bus.complete(locked.lockToken);
      } catch (completeError) {
        error = completeError; // settled below as a failure, as before
      }
    }
    const description = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    try {
      if (m.deliveryCount >= this.entity.maxDeliveryCount) {
        await bus.deadLetter(locked.lockToken, { reason: 'MaxDeliveryCountExceeded', description });
        this.options.log(
          'error',
          `${this.registration.name}: message ${m.messageId} dead-lettered after ${m.deliveryCount} deliveries: ${description}`,
        );
      } else {
        await bus.abandon(locked.lockToken);
        this.options.log(
          'warning',
          `${this.registration.name}: delivery ${m.deliveryCount} of ${m.messageId} failed: ${description}`,
        );
      }
    } catch (settleError) {
      // The lock expired meanwhile; the bus makes the message visible again on its own.
      this.options.log(
        'warning',
        `${this.registration.name}: could not settle ${m.messageId}: ${String(settleError)}`,
      );
    }
  }
}
