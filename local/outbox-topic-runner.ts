import { InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import type { OutboxEventTopic } from '../shared/services/outbox-event-topic';
import { busMessageId } from '../shared/domain/cloud-event';
import type { Registration } from './function-registry';
import { triggerSubscription } from './service-bus-runner';

export interface OutboxTopicRunnerOptions {
  topic: OutboxEventTopic;
  /** Events handled at once (host.json serviceBus.maxConcurrentCalls). */
  maxConcurrentCalls: number;
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
    const name = this.registration.name;
    this.stopConsumer = await this.options.topic.consume({
      topic,
      subscription,
      maxConcurrentCalls: this.options.maxConcurrentCalls,
      handler: async (event, delivery) => {
        const context = new InvocationContext({
          invocationId: randomUUID(),
          functionName: name,
          triggerMetadata: {
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
          },
          logHandler: (level, ...args) => this.options.log(level, `${name}: ${args.map(String).join(' ')}`),
        });
        await this.registration.options.handler(event, context);
      },
    });
  }

  async stop(): Promise<void> {
    await this.stopConsumer?.();
  }
}
