import { app, type InvocationContext } from '@azure/functions';
import { getServices } from '../shared/container';
import { WEBHOOK_RETRY_QUEUE } from '../shared/domain/bus-topology';
import type { DeliveryTask } from '../shared/services/webhook-service';

/** A scheduled retry of one webhook delivery (exponential backoff with jitter, then dead letter). */
export async function webhooksRetry(message: unknown, context: InvocationContext): Promise<void> {
  const task = message as DeliveryTask;
  const messageId = context.triggerMetadata?.messageId;
  const outcome = await getServices().webhooks.retry(
    task,
    typeof messageId === 'string' ? messageId : undefined,
  );
  context.debug(`webhooks-retry: ${task.event?.id} → ${task.subscriptionId}: ${outcome}`);
}

app.serviceBusQueue('webhooks-retry', {
  connection: 'ServiceBusConnection',
  queueName: WEBHOOK_RETRY_QUEUE,
  handler: webhooksRetry,
});
