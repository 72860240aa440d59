/**
 * The Service Bus entities the bridge uses, in one place: infra/ provisions exactly these, the
 * embedded bus creates exactly these, and the functions' triggers name them.
 */

export const EVENTS_TOPIC = 'bridge-events';
export const COMMANDS_QUEUE = 'bridge-commands';
export const WEBHOOK_RETRY_QUEUE = 'webhook-retries';
/** The subscription of bridge-events that realtime-publish reads. */
export const REALTIME_SUBSCRIPTION = 'realtime';

export interface SubscriptionSpec {
  name: string;
  /** Event types that pass the subscription's SQL filter on the `eventType` property; undefined = all. */
  eventTypes?: readonly string[];
  maxDeliveryCount: number;
  /** Read by the portals' own Service Bus receivers, not by a function of the bridge. */
  portal?: true;
}

export interface QueueSpec {
  name: string;
  maxDeliveryCount: number;
}

export interface TopicSpec {
  name: string;
  subscriptions: readonly SubscriptionSpec[];
}

export const BUS_TOPOLOGY: {
  topics: readonly TopicSpec[];
  queues: readonly QueueSpec[];
  duplicateDetectionWindowMs: number;
} = {
  topics: [
    {
      name: EVENTS_TOPIC,
      subscriptions: [
        // The admin portal sees everything that happens.
        { name: 'admin-portal', maxDeliveryCount: 10, portal: true },
        // The user portal needs the changes it renders, not other portals' own event types.
        {
          name: 'user-portal',
          eventTypes: ['user_update', 'user_delete', 'state_change', 'analysis_complete'],
          maxDeliveryCount: 10,
          portal: true,
        },
        // webhooks-deliver fans each event out to the registered webhook subscriptions.
        { name: 'webhooks', maxDeliveryCount: 10 },
        // realtime-publish pushes each event to its Web PubSub groups (BRIDGE_REALTIME=webpubsub).
        { name: REALTIME_SUBSCRIPTION, maxDeliveryCount: 10 },
      ],
    },
  ],
  queues: [
    { name: COMMANDS_QUEUE, maxDeliveryCount: 5 },
    { name: WEBHOOK_RETRY_QUEUE, maxDeliveryCount: 10 },
  ],
  duplicateDetectionWindowMs: 10 * 60 * 1000,
};

/** The Service Bus SQL filter expression for a subscription (what infra/ provisions). */
export function sqlFilterFor(subscription: SubscriptionSpec): string {
  if (!subscription.eventTypes) return '1=1';
  return `eventType IN (${subscription.eventTypes.map((t) => `'${t.replace(/'/g, "''")}'`).join(', ')})`;
}

/** What the SQL filter selects, evaluated in process (the embedded bus). */
export function subscriptionAccepts(
  subscription: SubscriptionSpec,
  applicationProperties: Record<string, unknown>,
): boolean {
  if (!subscription.eventTypes) return true;
  const eventType = applicationProperties.eventType;
  return typeof eventType === 'string' && subscription.eventTypes.includes(eventType);
}

/**
 * The topology without the subscriptions only the portals read: what the embedded bus keeps. The
 * portals cannot reach the embedded bus (they use webhooks or GET /api/events), so copying every
 * event into their subscriptions locally would only fill the file.
 */
export function withoutPortalSubscriptions<T extends { topics: readonly TopicSpec[] }>(topology: T): T {
  return {
    ...topology,
    topics: topology.topics.map((topic) => ({
      ...topic,
      subscriptions: topic.subscriptions.filter((subscription) => !subscription.portal),
    })),
  };
}
