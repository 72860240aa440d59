import { app, type InvocationContext } from '@azure/functions';
import { fromCosmosItem, isCosmosItem } from '../shared/adapters/cosmos-item';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';
import { EVENT_DOC_TYPE, type EventDocumentBody } from '../shared/domain/cloud-event';
import type { OutboxItem } from '../shared/services/event-outbox';

/**
 * Change feed → bus. The Cosmos DB trigger checkpoints its lease even when this handler throws, so
 * the handler is not the guarantee: each event is marked published only after the bus accepted it,
 * and events-sweep republishes whatever is still unmarked after the grace period.
 */
export async function eventsChangefeed(documents: unknown[], context: InvocationContext): Promise<void> {
  const items: OutboxItem[] = [];
  for (const raw of documents) {
    if (!isCosmosItem(raw) || raw.type !== EVENT_DOC_TYPE) continue;
    const doc = fromCosmosItem(raw);
    if (doc.seq === undefined) continue;
    items.push({ pk: doc.pk, docId: doc.id, seq: doc.seq, body: doc.body as EventDocumentBody });
  }
  if (items.length === 0) return;
  const { published, alreadyPublished, quarantined } = await getServices().propagator.propagate(items, {
    attempts: 5,
  });
  context.debug(
    `events-changefeed: ${published} published, ${alreadyPublished} already published, ${quarantined} quarantined`,
  );
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
