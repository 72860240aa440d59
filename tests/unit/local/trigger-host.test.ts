import { startTriggers } from '../../../local/trigger-host';
import { REALTIME_SUBSCRIPTION } from '../../../shared/domain/bus-topology';
import { topicRegistration } from '../../helpers/registrations';
import { makeTestServices } from '../../helpers/test-services';

/** The subscription webhooks-deliver reads (functions/webhooks-deliver.ts). */
const WEBHOOKS_SUBSCRIPTION = 'webhooks';

describe('local trigger host: consumers of the outbox topic', () => {
  const registrations = [
    topicRegistration('webhooks-deliver', WEBHOOKS_SUBSCRIPTION),
    topicRegistration('realtime-publish', REALTIME_SUBSCRIPTION),
  ];

  async function consumersWith(
    env: Record<string, string>,
  ): Promise<{ consumed: string[]; names: string[] }> {
    const { services, cleanup } = makeTestServices({ BRIDGE_EVENT_TOPIC: 'outbox', ...env });
    const topic = services.outboxTopic;
    if (!topic) throw new Error('the outbox topic is not set up');
    const consume = jest.spyOn(topic, 'consume');
    const logs: string[] = [];
    const triggers = await startTriggers(
      registrations,
      services,
      {},
      {
        maxConcurrentCalls: 4,
        maxMessageBatchSize: 1000,
        log: (_level, message) => logs.push(message),
      },
    );
    try {
      return { consumed: consume.mock.calls.map(([spec]) => spec.subscription.name), names: triggers.names };
    } finally {
      await triggers.stop();
      await cleanup();
    }
  }

  it('with realtime off, realtime-publish takes nothing from the outbox (nobody would read it)', async () => {
    const { consumed, names } = await consumersWith({});
    expect(consumed).toEqual([WEBHOOKS_SUBSCRIPTION]);
    expect(names).toEqual(['webhooks-deliver (serviceBusTopic)', 'realtime-publish (serviceBusTopic)']);
  });

  it('with realtime on, both functions consume the outbox topic', async () => {
    const { consumed } = await consumersWith({
      BRIDGE_REALTIME: 'webpubsub',
      WEBPUBSUB_ENDPOINT: 'https://127.0.0.1:9',
    });
    expect(consumed.sort()).toEqual([REALTIME_SUBSCRIPTION, WEBHOOKS_SUBSCRIPTION].sort());
  });
});
