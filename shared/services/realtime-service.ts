import type { BridgeCloudEvent } from '../domain/cloud-event';
import type { RealtimePublisher } from '../ports/realtime-publisher';
import { eventFilterFor, mayReceiveSubject, ownerIdOf } from './access-policy';
import { ServiceError } from './errors';
import type { EventLog } from './event-log';
import type { Principal } from './principal';

/**
 * Realtime push through a service built for many long connections (Azure Web PubSub), for
 * BRIDGE_REALTIME=webpubsub. Groups: `all` (every event), `type.<type>` and `subject.<subject>`;
 * each event is sent to the three it belongs to (a connection in several gets it once). A client
 * negotiates access for the groups it asked for (and may see): with `subject`, that subject's
 * group; else one group per type in `types`; else `all`. End users only ever get their own
 * subject group (access-policy.ts).
 *
 * Pushes are at least once and roughly in commit order, never a replay log: `negotiate` returns
 * the log's cursor as of now, and a client that (re)connects first replays from its last cursor
 * over HTTP (GET /api/events) — so the resume guarantee of the SSE stream holds here too.
 */
export interface NegotiateRequest {
  types?: readonly string[];
  subject?: string;
}

export interface Negotiated {
  url: string;
  expiresAt: string;
  groups: string[];
  /** The event log's position now: replay from your last cursor up to here, then apply pushes. */
  cursor: string;
}

/** Web PubSub group names are at most 1024 characters. */
const MAX_GROUP_LENGTH = 1024;

export const ALL_GROUP = 'all';
export const typeGroup = (type: string) => `type.${type}`;
export const subjectGroup = (subject: string) => `subject.${subject}`;

/** The groups an event is sent to. */
export function groupsOfEvent(event: Pick<BridgeCloudEvent, 'type' | 'subject'>): string[] {
  const groups = [ALL_GROUP, typeGroup(event.type)];
  if (event.subject !== undefined && subjectGroup(event.subject).length <= MAX_GROUP_LENGTH) {
    groups.push(subjectGroup(event.subject));
  }
  return groups;
}

export class RealtimeService {
  constructor(
    private readonly publisher: RealtimePublisher,
    private readonly log: EventLog,
    private readonly tokenMinutes: number,
  ) {}

  async negotiate(principal: Principal, request: NegotiateRequest): Promise<Negotiated> {
    const scope = eventFilterFor(principal);
    let groups: string[];
    if (request.subject !== undefined) {
      if (!mayReceiveSubject(scope, request.subject)) {
        throw new ServiceError('forbidden', `This caller may not receive events about ${request.subject}.`);
      }
      groups = [subjectGroup(request.subject)];
    } else if (scope.subjects) {
      groups = scope.subjects.map(subjectGroup);
    } else if (request.types && request.types.length > 0) {
      groups = [...new Set(request.types)].map(typeGroup);
    } else {
      groups = [ALL_GROUP];
    }
    // The cursor first: anything committed after it is either pushed or replayed from it.
    const cursor = this.log.formatCursor(await this.log.head());
    const access = await this.publisher.clientAccess({
      userId: ownerIdOf(principal),
      groups,
      minutes: this.tokenMinutes,
    });
    return { ...access, groups, cursor };
  }

  /** Pushes one committed event to its groups (the realtime-publish function, per bus message). */
  async publish(event: BridgeCloudEvent): Promise<void> {
    await this.publisher.sendToGroups(groupsOfEvent(event), event);
  }
}
