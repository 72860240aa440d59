import { EVENT_DOC_TYPE, type EventDocumentBody } from '../domain/cloud-event';
import type { ChangeFeedItemDecoder } from '../ports/change-feed';
import type { EventPublisher } from './event-publisher';
import type { OutboxItem } from './event-outbox';

export interface ChangeFeedResult {
  /** Event documents found in the batch. */
  events: number;
  published: number;
  alreadyPublished: number;
  /** Refused by the bus for a reason of their own and set aside. */
  quarantined: number;
}

/**
 * The change-feed trigger's use case: pick the bridge's event documents out of a batch of changed
 * items and propagate them to the bus. Anything else in the batch (profiles, marks, items that are
 * not bridge documents) is skipped; the sweeper remains the guarantee for what this misses.
 */
export class ChangeFeedIntake {
  constructor(
    private readonly decode: ChangeFeedItemDecoder,
    private readonly propagator: EventPublisher,
  ) {}

  async accept(items: readonly unknown[], attempts: number): Promise<ChangeFeedResult> {
    const events: OutboxItem[] = [];
    for (const item of items) {
      const doc = this.decode(item);
      if (doc?.type !== EVENT_DOC_TYPE || doc.seq === undefined) continue;
      events.push({ pk: doc.pk, docId: doc.id, seq: doc.seq, body: doc.body as EventDocumentBody });
    }
    if (events.length === 0) return { events: 0, published: 0, alreadyPublished: 0, quarantined: 0 };
    const { published, alreadyPublished, quarantined } = await this.propagator.propagate(events, {
      attempts,
    });
    return { events: events.length, published, alreadyPublished, quarantined };
  }
}
