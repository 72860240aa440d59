import { app, type InvocationContext } from '@azure/functions';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';

/**
 * Change feed → bus. The Cosmos DB trigger checkpoints its lease even when this handler throws, so
 * the handler is not the guarantee: each event is marked published only after the bus accepted it,
 * and events-sweep republishes whatever is still unmarked after the grace period.
 */
export async function eventsChangefeed(documents: unknown[], context: InvocationContext): Promise<void> {
  const { events, published, alreadyPublished, quarantined } = await getServices().changeFeed.accept(
    documents,
    5,
  );
  if (events > 0) {
    context.debug(
      `events-changefeed: ${published} published, ${alreadyPublished} already published, ${quarantined} quarantined`,
    );
  }
}

const triggers = loadTriggerSettings();

app.cosmosDB('events-changefeed', {
  connection: 'CosmosDbConnection',
  databaseName: '%COSMOS_DATABASE%',
  containerName: '%COSMOS_CONTAINER%',
  leaseContainerName: '%COSMOS_LEASE_CONTAINER%',
  createLeaseContainerIfNotExists: false,
  feedPollDelay: triggers.BRIDGE_FEED_POLL_DELAY_MS,
  maxItemsPerInvocation: triggers.BRIDGE_FEED_MAX_ITEMS,
  startFromBeginning: true,
  handler: eventsChangefeed,
});
