import type { Services } from '../shared/container';
import { resolveBindingExpression } from './binding-expressions';
import { ChangeFeedRunner } from './change-feed-runner';
import type { Registration } from './function-registry';
import { ServiceBusRunner } from './service-bus-runner';
import { TimerRunner } from './timer-runner';

interface Runner {
  start(): void;
  stop(): Promise<void>;
}

/**
 * Starts every non-HTTP trigger the function files registered, fed by the embedded adapters: the
 * Cosmos DB trigger from the store's change feed, Service Bus triggers from the embedded bus, timers
 * from their schedules. Returns a stop function that waits for in-flight invocations.
 */
export function startTriggers(
  registrations: Registration[],
  services: Services,
  env: NodeJS.ProcessEnv,
  options: { maxConcurrentCalls: number; log: (level: string, message: string) => void },
): { names: string[]; stop: () => Promise<void> } {
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
            log: options.log,
          }),
        );
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
  for (const runner of runners) runner.start();
  return { names, stop: async () => void (await Promise.all(runners.map((r) => r.stop()))) };
}
