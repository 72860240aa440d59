import { app, type InvocationContext } from '@azure/functions';
import { fromCosmosItem, isCosmosItem } from '../shared/adapters/cosmos-item';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';
import type { StoredDocument } from '../shared/ports/document-store';

/** Its leases are apart from events-changefeed's (same lease container, its own prefix). */
export const ANALYTICS_LEASE_PREFIX = 'analytics-';
const ATTEMPTS = 5;

/**
 * The second change-feed consumer: folds profile changes and events into the admin analytics
 * aggregates (services/admin/analytics-service.ts). The trigger moves its lease on even when this
 * throws, so failures are retried here with backoff; a page that still fails is counted in the
 * aggregates' status (the dashboard's `freshness.failedInvocations` says the figures may be short).
 */
export async function analyticsChangefeed(documents: unknown[], context: InvocationContext): Promise<void> {
  const docs: StoredDocument[] = [];
  for (const raw of documents) {
    if (isCosmosItem(raw) && (raw.type === 'user' || raw.type === 'event')) docs.push(fromCosmosItem(raw));
  }
  if (docs.length === 0) return;
  const { analytics } = getServices().admin;
  for (let attempt = 1; ; attempt++) {
    try {
      const counted = await analytics.consume(docs);
      context.debug(`analytics-changefeed: ${counted.profiles} profiles, ${counted.events} events`);
      return;
    } catch (error) {
      if (attempt >= ATTEMPTS) {
        context.error(`analytics-changefeed: gave up on ${docs.length} documents: ${String(error)}`);
        await analytics.recordFailure(error).catch(() => undefined);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
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
