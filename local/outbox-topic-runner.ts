import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import type { OutboxDelivery, OutboxEventTopic } from '../shared/services/outbox-event-topic';
import type { BridgeCloudEvent } from '../shared/domain/cloud-event';
import { busMessageId } from '../shared/domain/cloud-event';
import type { Registration } from './function-registry';
import { batchMetadata, triggerSubscription } from './service-bus-runner';

export interface OutboxTopicRunnerOptions {
  topic: OutboxEventTopic;
  /** Calls at once (host.json serviceBus.maxConcurrentCalls); a batch is one call. */
  maxConcurrentCalls: number;
  /** Most events in one call of a `cardinality: 'many'` function (host.json serviceBus.maxMessageBatchSize). */
  maxMessageBatchSize: number;
  log: (level: string, message: string) => void;
}

/**
 * Drives an app.serviceBusTopic registration on the bridge-events topic when the topic lives in
 * the outbox (BRIDGE_EVENT_TOPIC=outbox): the function gets each event as the trigger would give
 * the message (the CloudEvent as body, the same trigger metadata), straight from the commit
 * notification or, after a restart, from the store's event feed. A throw is retried with backoff
 * up to the subscription's maxDeliveryCount, then the event is quarantined (see OutboxEventTopic).
 */
export class OutboxTopicRunner {
  private stopConsumer?: () => Promise<void>;

  constructor(
    private readonly registration: Registration,
    private readonly options: OutboxTopicRunnerOptions,
  ) {}

  async start(): Promise<void> {
    const { topic, subscription } = triggerSubscription(this.registration);
    const many = this.registration.options.cardinality === 'many';
    this.stopConsumer = await this.options.topic.consume({
      topic,
      subscription,
      maxConcurrentCalls: this.options.maxConcurrentCalls,
      handler: (event, delivery) => this.invoke(event, messageMetadata(event, delivery)),
      ...(many
        ? {
            batch: {
              maxEvents: this.options.maxMessageBatchSize,
              // As the trigger gives a batch: the bodies in order, each metadata field as an array.
              handler: (events, deliveries) =>
                this.invoke(
                  events,
                  batchMetadata(events.map((e, i) => messageMetadata(e, deliveries[i] as OutboxDelivery))),
                ),
            },
          }
        : {}),
    });
  }

  private async invoke(message: unknown, triggerMetadata: Record<string, unknown>): Promise<void> {
    const name = this.registration.name;
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: name,
      triggerMetadata,
      logHandler: (level, ...args) => this.options.log(level, `${name}: ${args.map(String).join(' ')}`),
    });
    await this.registration.options.handler(message, context);
  }

  async stop(): Promise<void> {
    await this.stopConsumer?.();
  }
}

/** The trigger metadata of one event as a bus message. */
function messageMetadata(event: BridgeCloudEvent, delivery: OutboxDelivery): Record<string, unknown> {
  return {
    messageId: busMessageId(event.id),
    deliveryCount: delivery.deliveryCount,
    enqueuedTimeUtc: new Date(delivery.item.body.committedAt).toISOString(),
    sequenceNumber: delivery.item.seq,
    subject: event.type,
    contentType: 'application/cloudevents+json',
    applicationProperties: {
      eventType: event.type,
      ...(event.subject ? { eventSubject: event.subject } : {}),
    },
  };
}
