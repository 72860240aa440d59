import { app, type InvocationContext } from '@azure/functions';
import { getServices } from '../shared/container';
import { EVENTS_TOPIC, REALTIME_SUBSCRIPTION } from '../shared/domain/bus-topology';
import type { BridgeCloudEvent } from '../shared/domain/cloud-event';

/**
 * Pushes each event to its Web PubSub groups (BRIDGE_REALTIME=webpubsub). With realtime off the
 * message is completed at once. A failed push throws, so the bus retries it (and dead-letters it
 * at the subscription's delivery limit); clients replay over HTTP whatever a push missed.
 */
export async function realtimePublish(message: unknown, context: InvocationContext): Promise<void> {
  const realtime = getServices().realtime;
  if (!realtime) return;
  const event = message as BridgeCloudEvent;
  await realtime.publish(event);
  context.debug(`realtime-publish: ${event.id} pushed`);
}

app.serviceBusTopic('realtime-publish', {
  connection: 'ServiceBusConnection',
  topicName: EVENTS_TOPIC,
  subscriptionName: REALTIME_SUBSCRIPTION,
  handler: realtimePublish,
});
