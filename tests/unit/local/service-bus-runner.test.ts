/**
 * The local host's Service Bus trigger over the embedded bus, for a `cardinality: 'many'` function:
 * one call per batch (bodies in order, metadata as `<name>Array`), completed or abandoned as a whole,
 * and dead-lettered at the subscription's delivery limit, as the Functions trigger does.
 */
import type { InvocationContext } from '@azure/functions';
import { EmbeddedBus, subscriptionPath } from '../../../shared/adapters/embedded/embedded-bus';
import { BUS_TOPOLOGY, EVENTS_TOPIC } from '../../../shared/domain/bus-topology';
import { ServiceBusRunner } from '../../../local/service-bus-runner';
import { topicRegistration } from '../../helpers/registrations';

const WEBHOOKS = subscriptionPath(EVENTS_TOPIC, 'webhooks');

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function setup(fail: (ids: string[]) => boolean) {
  const bus = new EmbeddedBus({ path: ':memory:', topology: BUS_TOPOLOGY });
  const calls: { ids: string[]; metadata: Record<string, unknown> }[] = [];
  const registration = topicRegistration(
    'webhooks-deliver',
    'webhooks',
    async (messages: unknown, context: InvocationContext) => {
      const ids = (messages as { id: string }[]).map((m) => m.id);
      calls.push({ ids, metadata: context.triggerMetadata ?? {} });
      if (fail(ids)) throw new Error(`refused ${ids.join(',')}`);
    },
    { cardinality: 'many' },
  );
  const runner = new ServiceBusRunner(registration, {
    bus,
    maxConcurrentCalls: 1,
    maxMessageBatchSize: 3,
    log: () => undefined,
  });
  const send = (ids: string[]) =>
    bus.send(
      EVENTS_TOPIC,
      ids.map((id) => ({ messageId: id, body: { id }, applicationProperties: { eventType: 'user_update' } })),
    );
  return { bus, runner, calls, send };
}

test('a batch function gets up to maxMessageBatchSize messages per call, with the metadata as arrays', async () => {
  const { bus, runner, calls, send } = setup(() => false);
  await send(['m1', 'm2', 'm3', 'm4', 'm5']);
  runner.start();
  await waitFor(() => calls.flatMap((c) => c.ids).length === 5, 'five messages');
  await runner.stop();
  expect(calls.map((c) => c.ids)).toEqual([
    ['m1', 'm2', 'm3'],
    ['m4', 'm5'],
  ]);
  expect(calls[0]?.metadata.messageIdArray).toEqual(['m1', 'm2', 'm3']);
  expect(calls[0]?.metadata.deliveryCountArray).toEqual([1, 1, 1]);
  expect(calls[0]?.metadata.messageId).toBeUndefined();
  // Completed: nothing is left to receive.
  expect(await bus.receive(WEBHOOKS, { maxMessages: 10 })).toEqual([]);
  await bus.close();
});

test('a throw abandons the whole batch: each message comes again, and at the limit is dead-lettered', async () => {
  const { bus, runner, calls, send } = setup((ids) => ids.includes('bad'));
  await send(['bad', 'ok']);
  runner.start();
  const limit = 10; // the webhooks subscription's maxDeliveryCount (bus topology)
  await waitFor(() => calls.length === limit, 'every delivery');
  await runner.stop();
  expect(calls.every((c) => c.ids.join() === 'bad,ok')).toBe(true);
  expect(calls.map((c) => c.metadata.deliveryCountArray)).toEqual(
    Array.from({ length: limit }, (_, i) => [i + 1, i + 1]),
  );
  const dead = await bus.peekDeadLetters(WEBHOOKS, { limit: 10 });
  expect(dead.map((d) => [d.message.messageId, d.deadLetterReason])).toEqual([
    ['bad', 'MaxDeliveryCountExceeded'],
    ['ok', 'MaxDeliveryCountExceeded'],
  ]);
  await bus.close();
});
