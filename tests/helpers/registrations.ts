import type { Registration } from '../../local/function-registry';
import { EVENTS_TOPIC } from '../../shared/domain/bus-topology';

/** What `app.serviceBusTopic(name, {...})` on the bridge-events topic records for the local host. */
export function topicRegistration(
  name: string,
  subscriptionName: string,
  handler: (...args: never[]) => unknown = async () => undefined,
  options: { cardinality?: 'one' | 'many' } = {},
): Registration {
  return {
    trigger: 'serviceBusTopic',
    name,
    options: {
      connection: 'ServiceBusConnection',
      topicName: EVENTS_TOPIC,
      subscriptionName,
      ...options,
      handler: handler as Registration['options']['handler'],
    },
  };
}
