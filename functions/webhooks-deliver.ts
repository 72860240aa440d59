import { app, type InvocationContext } from '@azure/functions';
import { getServices } from '../shared/container';
import { EVENTS_TOPIC } from '../shared/domain/bus-topology';
import type { BridgeCloudEvent } from '../shared/domain/cloud-event';

/** First delivery of each event to the webhooks subscribed to its type; failures go to webhook-retries. */
export async function webhooksDeliver(message: unknown, context: InvocationContext): Promise<void> {
  const event = message as BridgeCloudEvent;
  const { delivered, scheduled } = await getServices().webhooks.fanOut(event);
  if (delivered + scheduled > 0)
    context.debug(`webhooks-deliver: ${event.id} delivered ${delivered}, retrying ${scheduled}`);
}

app.serviceBusTopic('webhooks-deliver', {
  connection: 'ServiceBusConnection',
  topicName: EVENTS_TOPIC,
  subscriptionName: 'webhooks',
  handler: webhooksDeliver,
});
