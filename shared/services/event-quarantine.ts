import { createHash } from 'node:crypto';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { isStoreError } from '../ports/document-store';
import type { EventDocumentBody } from '../domain/cloud-event';
import { eventRefusalReason } from './bus-refusals';
import { ServiceError } from './errors';
import type { OutboxItem } from './event-outbox';

/** An event set aside because the bus or a consumer refused it for a reason of its own. */
export interface QuarantinedEvent {
  /** The quarantine entry's id (for the admin routes). */
  id: string;
  eventId: string;
  type: string;
  subject?: string;
  /** Where the event document lives: its partition, id and commit sequence. */
  pk: string;
  docId: string;
  seq: number;
  /** Who refused it: `bus` (the topic) or a consumer of the outbox topic (`<topic>/<subscription>`). */
  where: string;
  reason: string;
  quarantinedAt: string;
}

const QUARANTINE_PK = 'event-quarantine';
const QUARANTINE_TYPE = 'event-quarantine';
export const QUARANTINE_ID_PATTERN = /^q_[A-Za-z0-9_-]{1,64}$/;

/** One entry per event and refuser, whatever the length of the event's keys. */
function quarantineId(item: Pick<OutboxItem, 'pk' | 'docId'>, where: string): string {
  return `q_${createHash('sha256').update(`${item.pk}\n${item.docId}\n${where}`).digest('base64url').slice(0, 32)}`;
}

/**
 * The event quarantine: events refused for a permanent reason (too large for the bus, a malformed
 * message, a consumer failing it at every delivery) are recorded here with the reason instead of
 * being retried forever; admins list them (and see them in GET /api/lockstep/status) and redeliver
 * them once the cause is fixed. The event document itself stays where it is (until its retention).
 */
export class EventQuarantine {
  constructor(
    private readonly store: DocumentCollection,
    private readonly clock: Clock,
    private readonly retentionSeconds: number,
  ) {}

  async add(item: OutboxItem, where: string, reason: string): Promise<QuarantinedEvent> {
    const event = item.body.event;
    const entry: QuarantinedEvent = {
      id: quarantineId(item, where),
      eventId: event.id,
      type: event.type,
      ...(event.subject !== undefined ? { subject: event.subject } : {}),
      pk: item.pk,
      docId: item.docId,
      seq: item.seq,
      where,
      reason: reason.slice(0, 2000),
      quarantinedAt: new Date(this.clock.now()).toISOString(),
    };
    await this.store.upsert(
      QUARANTINE_PK,
      { id: entry.id, type: QUARANTINE_TYPE, body: entry },
      { ttlSeconds: this.retentionSeconds },
    );
    return entry;
  }

  async list(
    limit = 100,
    continuation?: string,
  ): Promise<{ items: QuarantinedEvent[]; continuation?: string }> {
    const page = await this.store.query<QuarantinedEvent>({
      pk: QUARANTINE_PK,
      type: QUARANTINE_TYPE,
      limit,
      ...(continuation !== undefined ? { continuation } : {}),
    });
    return {
      items: page.items.map((doc) => doc.body),
      ...(page.continuation !== undefined ? { continuation: page.continuation } : {}),
    };
  }

  async count(): Promise<number> {
    return this.store.count({ pk: QUARANTINE_PK, type: QUARANTINE_TYPE });
  }

  async get(id: string): Promise<QuarantinedEvent | undefined> {
    if (!QUARANTINE_ID_PATTERN.test(id)) return undefined;
    return (await this.store.read<QuarantinedEvent>(QUARANTINE_PK, id))?.body;
  }

  /** The quarantined event's document, as the publishers take it; undefined once it has expired. */
  async item(entry: QuarantinedEvent): Promise<OutboxItem | undefined> {
    const doc = await this.store.read<EventDocumentBody>(entry.pk, entry.docId);
    if (!doc || doc.seq === undefined) return undefined;
    return { pk: doc.pk, docId: doc.id, seq: doc.seq, body: doc.body };
  }

  async remove(id: string): Promise<boolean> {
    if (!QUARANTINE_ID_PATTERN.test(id)) return false;
    try {
      await this.store.delete(QUARANTINE_PK, id);
      return true;
    } catch (error) {
      if (isStoreError(error, 'not-found')) return false;
      throw error;
    }
  }
}

/** Publishes a quarantined event again (the publisher the event was refused by decides how). */
export interface Redeliverer {
  redeliver(item: OutboxItem, where: string): Promise<void>;
}

/**
 * The admins' side of the quarantine (GET/POST/DELETE /api/events/quarantine): list the entries,
 * redeliver one once its cause is fixed (it leaves the quarantine; refused again, it comes back with
 * the new reason), or dismiss it.
 */
export class QuarantineAdmin {
  constructor(
    private readonly quarantine: EventQuarantine,
    private readonly publisher: Redeliverer,
  ) {}

  list(limit: number, continuation?: string): Promise<{ items: QuarantinedEvent[]; continuation?: string }> {
    return this.quarantine.list(limit, continuation);
  }

  async redeliver(id: string): Promise<QuarantinedEvent> {
    const entry = await this.quarantine.get(id);
    if (!entry) throw new ServiceError('not-found', `No quarantined event ${id}.`);
    const item = await this.quarantine.item(entry);
    if (!item) {
      throw new ServiceError(
        'not-found',
        `The event ${entry.eventId} is past its retention and can no longer be redelivered; dismiss the entry.`,
      );
    }
    await this.quarantine.remove(id);
    try {
      await this.publisher.redeliver(item, entry.where);
    } catch (error) {
      const reason = eventRefusalReason(error);
      await this.quarantine.add(item, entry.where, reason ?? String(error));
      if (reason !== undefined) {
        throw new ServiceError('conflict', `The event ${entry.eventId} is still refused: ${reason}`);
      }
      throw new ServiceError(
        'unavailable',
        `Redelivery of ${entry.eventId} failed; retry shortly.`,
        undefined,
        {
          retryAfterSeconds: 5,
        },
      );
    }
    return entry;
  }

  /** Removes an entry without redelivering; false when there was none. */
  dismiss(id: string): Promise<boolean> {
    return this.quarantine.remove(id);
  }
}
