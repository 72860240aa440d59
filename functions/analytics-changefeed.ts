import { app, type InvocationContext } from '@azure/functions';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';

/** Its leases are apart from events-changefeed's (same lease container, its own prefix). */
export const ANALYTICS_LEASE_PREFIX = 'analytics-';

/**
 * The second change-feed consumer: folds profile changes and events into the admin analytics
 * aggregates (services/admin/analytics-service.ts). The trigger moves its lease on even when this
 * throws, so the service retries a failing page (5 tries, backoff) and counts a page it gives up on
 * (the dashboard's `freshness.failedInvocations` then says the figures may be short).
 */
export async function analyticsChangefeed(documents: unknown[], context: InvocationContext): Promise<void> {
  const counted = await getServices().admin.analytics.acceptFeed(documents, 5);
  if (counted.failed) context.error(`analytics-changefeed: gave up on a page: ${counted.failed}`);
  else if (counted.profiles + counted.events > 0) {
    context.debug(`analytics-changefeed: ${counted.profiles} profiles, ${counted.events} events`);
  }
}

const triggers = loadTriggerSettings();

app.cosmosDB('analytics-changefeed', {
  connection: 'CosmosDbConnection',
  databaseName: '%COSMOS_DATABASE%',
  containerName: '%COSMOS_CONTAINER%',
  leaseContainerName: '%COSMOS_LEASE_CONTAINER%',
  leaseContainerPrefix: ANALYTICS_LEASE_PREFIX,
  createLeaseContainerIfNotExists: false,
  feedPollDelay: triggers.BRIDGE_FEED_POLL_DELAY_MS,
  maxItemsPerInvocation: triggers.BRIDGE_FEED_MAX_ITEMS,
  startFromBeginning: true,
  handler: analyticsChangefeed,
});
