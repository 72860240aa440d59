import { app, type InvocationContext } from '@azure/functions';
import { getServices } from '../shared/container';
import { EVENTS_TOPIC } from '../shared/domain/bus-topology';
import type { BridgeCloudEvent } from '../shared/domain/cloud-event';

/**
 * First delivery of a batch of events to the webhooks subscribed to their types; failed attempts go
 * to webhook-retries. A batch, not one event per call: a subscription with maxEventsPerBatch gets
 * the batch's events in as few POSTs as its limit allows, and no event waits for a call of its own.
 * A throw (the retry queue unreachable) fails the whole batch and the trigger delivers it again.
 */
export async function webhooksDeliver(messages: unknown[], context: InvocationContext): Promise<void> {
  const events = messages as BridgeCloudEvent[];
  // Every fan-out finishes before the call fails: a redelivery must not overlap deliveries still out.
  const outcomes = await Promise.allSettled(events.map((event) => getServices().webhooks.fanOut(event)));
  let delivered = 0;
  let scheduled = 0;
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') throw outcome.reason;
    delivered += outcome.value.delivered;
    scheduled += outcome.value.scheduled;
  }
  if (delivered + scheduled > 0)
    context.debug(`webhooks-deliver: ${events.length} events, delivered ${delivered}, retrying ${scheduled}`);
}

app.serviceBusTopic('webhooks-deliver', {
  connection: 'ServiceBusConnection',
  topicName: EVENTS_TOPIC,
  subscriptionName: 'webhooks',
  cardinality: 'many',
  handler: webhooksDeliver,
});
