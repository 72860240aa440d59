import type { Services } from '../shared/container';
import { EVENTS_TOPIC } from '../shared/domain/bus-topology';
import { resolveBindingExpression } from './binding-expressions';
import { ChangeFeedRunner } from './change-feed-runner';
import type { Registration } from './function-registry';
import { OutboxTopicRunner } from './outbox-topic-runner';
import { ServiceBusRunner } from './service-bus-runner';
import { TimerRunner } from './timer-runner';

/** The function that pushes events to Web PubSub (functions/realtime-publish.ts). */
const REALTIME_FUNCTION = 'realtime-publish';

interface Runner {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts every non-HTTP trigger the function files registered, fed by the embedded adapters: the
 * Cosmos DB trigger from the store's change feed, Service Bus triggers from the embedded bus, timers
 * from their schedules. With the outbox as the event topic (BRIDGE_EVENT_TOPIC=outbox), the
 * bridge-events subscriptions are fed from the outbox (and, for messages a previous release left
 * on the embedded bus, from the bus too), and the Cosmos DB trigger, whose only job is publishing
 * event documents to the bus, is not run: they already are the topic. Resolves, once every trigger
 * listens, to a stop function that waits for in-flight invocations.
 */
export async function startTriggers(
  registrations: Registration[],
  services: Services,
  env: NodeJS.ProcessEnv,
  options: {
    maxConcurrentCalls: number;
    maxMessageBatchSize: number;
    log: (level: string, message: string) => void;
  },
): Promise<{ names: string[]; stop: () => Promise<void> }> {
  const runners: Runner[] = [];
  const names: string[] = [];
  const defaults = {
    COSMOS_CONTAINER: services.config.store.container,
    COSMOS_LEASE_CONTAINER: services.config.triggers.COSMOS_LEASE_CONTAINER,
    COSMOS_DATABASE: services.config.triggers.COSMOS_DATABASE,
  };
  for (const registration of registrations) {
    switch (registration.trigger) {
      case 'http':
        continue;
      case 'cosmosDB':
        // With the outbox as the topic, events-changefeed (which publishes event documents to the
        // bus) has nothing to do; other change-feed consumers (analytics) still run.
        if (services.outboxTopic && registration.name === 'events-changefeed') {
          options.log(
            'information',
            `${registration.name} (cosmosDB): not run: the event documents are the topic (BRIDGE_EVENT_TOPIC=outbox)`,
          );
          continue;
        }
        runners.push(
          new ChangeFeedRunner(registration, {
            store: services.store,
            container: resolveBindingExpression(registration.options.containerName, env, defaults),
            leaseContainer: resolveBindingExpression(registration.options.leaseContainerName, env, defaults),
            log: options.log,
          }),
        );
        break;
      case 'serviceBusQueue':
      case 'serviceBusTopic':
        if (!services.embeddedBus)
          throw new Error(
            `${registration.name}: the local host drives Service Bus triggers from the embedded bus (BRIDGE_BUS=embedded)`,
          );
        runners.push(
          new ServiceBusRunner(registration, {
            bus: services.embeddedBus,
            maxConcurrentCalls: options.maxConcurrentCalls,
            maxMessageBatchSize: options.maxMessageBatchSize,
            log: options.log,
          }),
        );
        if (
          services.outboxTopic &&
          registration.trigger === 'serviceBusTopic' &&
          registration.options.topicName === EVENTS_TOPIC
        ) {
          // Realtime off: every event would go through a consumer whose handler does nothing (a
          // store read per event for its durable path, a lease, an invocation). Its checkpoint stays
          // where it is; turned on later, it resumes from there within the event retention.
          if (registration.name === REALTIME_FUNCTION && !services.realtime) {
            options.log(
              'information',
              `${registration.name} (outbox topic): not run: BRIDGE_REALTIME=off, there is nothing to push`,
            );
            names.push(`${registration.name} (${registration.trigger})`);
            continue;
          }
          runners.push(
            new OutboxTopicRunner(registration, {
              topic: services.outboxTopic,
              maxConcurrentCalls: options.maxConcurrentCalls,
              maxMessageBatchSize: options.maxMessageBatchSize,
              log: options.log,
            }),
          );
        }
        break;
      case 'timer':
        runners.push(new TimerRunner(registration, options.log));
        break;
      default:
        options.log(
          'warning',
          `${registration.name}: ${registration.trigger} triggers are not run by the local host`,
        );
        continue;
    }
    names.push(`${registration.name} (${registration.trigger})`);
  }
  for (const runner of runners) await runner.start();
  return { names, stop: async () => void (await Promise.all(runners.map((r) => r.stop()))) };
}
