import { app, type InvocationContext } from '@azure/functions';
import { getServices } from '../shared/container';
import { COMMANDS_QUEUE } from '../shared/domain/bus-topology';

/**
 * Runs queued commands through the same services as the HTTP routes. Client faults are recorded on
 * the operation and completed; infrastructure errors throw so the bus redelivers; a malformed
 * (poison) command throws every time and reaches the dead-letter queue at the delivery limit.
 */
export async function commandsProcess(message: unknown, context: InvocationContext): Promise<void> {
  const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
  const status = await getServices().commands.process(message, deliveryCount);
  context.log(`commands-process: ${String(context.triggerMetadata?.messageId ?? '')} ${status}`);
}

app.serviceBusQueue('commands-process', {
  connection: 'ServiceBusConnection',
  queueName: COMMANDS_QUEUE,
  handler: commandsProcess,
});
