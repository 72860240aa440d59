import { createHash } from 'node:crypto';

/** The largest maxEventsPerBatch a subscription may ask for. */
export const MAX_EVENTS_PER_BATCH = 100;
/** Most bytes of events in one batched POST; a single larger event still goes, alone. */
export const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * A batched POST's webhook-id: the event's own id for a batch of one, else a digest of the ids in
 * order (the same events give the same id, so a receiver's Standard Webhooks dedupe still works).
 */
export function batchMessageId(eventIds: readonly string[]): string {
  const [only, ...rest] = eventIds;
  if (only !== undefined && rest.length === 0) return only;
  const digest = createHash('sha256');
  for (const id of eventIds) digest.update(id).update('\n');
  return `batch_${digest.digest('hex').slice(0, 32)}`;
}
