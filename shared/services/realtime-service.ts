import type { BridgeCloudEvent } from '../domain/cloud-event';
import type { RealtimePublisher } from '../ports/realtime-publisher';
import { isEventAbout, ownerIdOf, replaySubjectFor } from './access-policy';
import type { EventLog } from './event-log';
import type { Principal } from './principal';

/**
 * Realtime push through a service built for many long connections (Azure Web PubSub), for
 * BRIDGE_REALTIME=webpubsub. Groups: `all` (every event), `type.<type>`, `subject.<subject>`, and
 * `user.<userId>` (only the events access-policy.ts `isEventAbout` that user: an event whose
 * subject merely equals a user id, e.g. a state key, is not sent there); each event is sent to the
 * groups it belongs to (a connection in several gets it once). A key or app-role token negotiates
 * access for what it asked: with `subject`, that subject's group; else one group per type in
 * `types`; else `all`. An end user only ever gets their own `user.<userId>` group (the same rule
 * as eventFilterFor in replay and the SSE stream; `subject` naming anyone else is a 403, and
 * `types` is theirs to filter client-side). Tokens carry no roles, so no client joins other groups.
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
export const userGroup = (userId: string) => `user.${userId}`;

/** The groups an event is sent to. */
export function groupsOfEvent(event: Pick<BridgeCloudEvent, 'type' | 'subject' | 'source'>): string[] {
  const groups = [ALL_GROUP, typeGroup(event.type)];
  const { subject } = event;
  if (subject !== undefined && subjectGroup(subject).length <= MAX_GROUP_LENGTH) {
    groups.push(subjectGroup(subject));
    if (isEventAbout(event, subject)) groups.push(userGroup(subject));
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
    let groups: string[];
    if (principal.kind === 'end-user') {
      // 403 for another user's subject, before anything is issued.
      groups = [userGroup(replaySubjectFor(principal, request.subject) ?? principal.userId)];
    } else if (request.subject !== undefined) {
      groups = [subjectGroup(request.subject)];
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
