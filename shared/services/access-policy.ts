import { USER_ID_PATTERN } from '../domain/ids';
import { ADMIN_ONLY_COMMANDS, type Command } from './command-schemas';
import { ServiceError } from './errors';
import { actorIdOf, principalKey, routeRoleOf, type Principal, type RouteRole } from './principal';
import type { Scope } from './scopes';

/**
 * Access decisions, in one place (OWASP API1/API5): which routes a principal may call at all
 * (`routeDenial`, from each route's declared `access`), and which *objects* it may touch there.
 * Every route that touches a user's data, a file, an event or an owned record asks a function
 * here; adding a kind of principal means changing this file.
 *
 * Reach by principal:
 * - admin (key or app-role token): everything.
 * - service (key or app-role token), and the user-portal key: act for every user (a portal speaks
 *   for all of its people); a user-portal key only touches files under `users/`.
 * - end user (bearer token without an app role): only their own profile, files under
 *   `users/<self>/`, tokens, analyses, events about themselves, and their own operations and
 *   subscriptions.
 * - a key with scopes: its role's reach, on the routes of those scopes only.
 *
 * Denials: an object addressed by a user id or path (profiles, files, tokens, events) answers
 * 403 — decided before any read, so it reveals nothing about existence. An object addressed by a
 * generated id (subscriptions, operations) answers 404 to anyone who may not see it, as if it did
 * not exist.
 */

// ------------------------------------------------------------------------------------------------
// Routes

/** A route's declared access (route-registry's `Access`, minus `public`). */
export interface RouteAccess {
  roles: readonly RouteRole[];
  scope: Scope;
}

export interface RouteDenial {
  reason: 'role' | 'scope';
  detail: string;
  requiredScope?: Scope;
}

/** Why this principal may not call a route with this access at all, or undefined when it may. */
export function routeDenial(principal: Principal, access: RouteAccess): RouteDenial | undefined {
  const role = routeRoleOf(principal);
  if (!access.roles.includes(role)) {
    const who =
      role === 'end-user' ? 'An end user' : `A ${role} ${principal.kind === 'key' ? 'key' : 'token'}`;
    return {
      reason: 'role',
      detail: `${who} may not do this; allowed: ${access.roles.join(', ')}.`,
    };
  }
  if (principal.kind === 'key' && principal.scopes && !principal.scopes.includes(access.scope)) {
    return {
      reason: 'scope',
      requiredScope: access.scope,
      detail: `This key is limited to the scopes ${principal.scopes.join(', ') || '(none)'}; this route needs ${access.scope}.`,
    };
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// Owners

/**
 * The id recorded as the owner of what this principal creates (a subscription's `createdBy`, an
 * operation's `owner`): a key's id (as stored before owners were enforced), `token:<subject>` or
 * `user:<userId>`.
 */
export function ownerIdOf(principal: Principal): string {
  return actorIdOf(principal);
}

/** The scope of a principal's idempotency records: a key reused by another caller never collides. */
export function idempotencyScopeOf(principal: Principal): string {
  return principalKey(principal);
}

/** Admins (keys or tokens) see and manage everything. */
export function isAdmin(principal: Principal): boolean {
  return principal.role === 'admin';
}

/** May this principal read, change or delete an object owned by `ownerId`? */
export function mayManageOwned(principal: Principal, ownerId: string | undefined): boolean {
  return isAdmin(principal) || (ownerId !== undefined && ownerIdOf(principal) === ownerId);
}

// ------------------------------------------------------------------------------------------------
// Users: profiles, tokens, metered calls, analyses

/**
 * May this principal act for user `userId` (read or sync their profile, read their tokens, spend
 * them, run an analysis about them)? Keys and app-role tokens: yes, the portals act for all of
 * their users. An end user: only for themselves.
 */
export function mayActForUser(principal: Principal, userId: string): boolean {
  return principal.kind !== 'end-user' || principal.userId === userId;
}

/** 403 unless the principal may act for `userId`; `what` completes "may not …". */
export function assertMayActForUser(principal: Principal, userId: string, what: string): void {
  if (!mayActForUser(principal, userId)) {
    throw new ServiceError('forbidden', `You may not ${what} of user ${userId}; only your own.`);
  }
}

/**
 * The user an operation is about, when the request may leave it out: an end user's own id when
 * they left it out (and 403 for anyone else's); for other principals, what they gave.
 */
export function userIdFor(
  principal: Principal,
  requested: string | undefined,
  what: string,
): string | undefined {
  if (principal.kind !== 'end-user') return requested;
  if (requested !== undefined) assertMayActForUser(principal, requested, what);
  return principal.userId;
}

// ------------------------------------------------------------------------------------------------
// Files

/** Each user's files live under `users/<userId>/`; the area of the user portal is `users/`. */
export const USER_FILE_AREA = 'users/';
export const userFileArea = (userId: string) => `${USER_FILE_AREA}${userId}/`;

/**
 * 403 unless the principal may touch the file at `path` (a path whose form was already checked):
 * admin and service anywhere; a user-portal key under `users/`; an end user under `users/<self>/`.
 */
export function assertMayTouchFile(principal: Principal, path: string): void {
  if (principal.kind === 'end-user') {
    const own = userFileArea(principal.userId);
    if (!path.startsWith(own)) throw new ServiceError('forbidden', `You may only touch files under ${own}.`);
    return;
  }
  if (principal.role === 'user' && !path.startsWith(USER_FILE_AREA)) {
    throw new ServiceError('forbidden', `A user key may only touch files under ${USER_FILE_AREA}{userId}/.`);
  }
}

/**
 * The prefix a listing may use: the requested one when the principal may list it (403 otherwise);
 * when none was given, the principal's own area (`users/<self>/` for an end user, `users/` for a
 * user-portal key, everything for admin and service).
 */
export function fileListPrefixFor(principal: Principal, requested: string): string {
  if (principal.kind === 'end-user') {
    const own = userFileArea(principal.userId);
    if (requested === '' || requested === own.slice(0, -1)) return own;
    if (!requested.startsWith(own))
      throw new ServiceError('forbidden', `You may only list files under ${own}.`);
    return requested;
  }
  if (principal.role !== 'user') return requested;
  if (requested === '') return USER_FILE_AREA;
  if (!requested.startsWith(USER_FILE_AREA)) {
    throw new ServiceError('forbidden', `A user key may only list files under ${USER_FILE_AREA}.`);
  }
  return requested;
}

// ------------------------------------------------------------------------------------------------
// Events

/** What the event filters look at. */
export interface EventFacts {
  type: string;
  source: string;
  subject?: string;
}

/**
 * Sources of events whose `subject` is a user id: profile changes, token charges and grants,
 * career records (resume_change, application_change), a disabled webhook of an end user
 * (subscription_disabled), and published events (a publisher's subject
 * names the user it is about). An event from any other
 * source (e.g. `state_change`, whose subject is a state key) is never about a user. A new kind of
 * event meant to reach the user it names must use one of these sources or be added here.
 */
const USER_SUBJECT_SOURCES = [
  '/bridge/users/',
  '/bridge/tokens/',
  '/bridge/career/',
  '/bridge/publishers/',
  '/bridge/webhooks/',
] as const;

/** Is this event about user `userId`? */
export function isEventAbout(event: EventFacts, userId: string): boolean {
  return event.subject === userId && USER_SUBJECT_SOURCES.some((prefix) => event.source.startsWith(prefix));
}

/**
 * Which events a principal may read (replay, the SSE stream, webhooks it owns). `subject`, when
 * set, is the only subject it may see (a store or stream can narrow by it first); `matches` is the
 * whole rule and must be applied to every event.
 */
export interface EventFilter {
  subject?: string;
  matches(event: EventFacts): boolean;
}

const EVERY_EVENT: EventFilter = { matches: () => true };

/** Keys and app-role tokens read every event; an end user only events about themselves. */
export function eventFilterFor(principal: Principal): EventFilter {
  if (principal.kind !== 'end-user') return EVERY_EVENT;
  const { userId } = principal;
  return { subject: userId, matches: (event) => isEventAbout(event, userId) };
}

/** The end user a record's owner id (ownerIdOf) names, or undefined for keys and app-role tokens. */
export function endUserOfOwner(ownerId: string): string | undefined {
  const userId = ownerId.startsWith('user:') ? ownerId.slice('user:'.length) : undefined;
  return userId !== undefined && USER_ID_PATTERN.test(userId) ? userId : undefined;
}

/** The same rule for a record's owner id (ownerIdOf): what a webhook owned by it may receive. */
export function eventFilterForOwner(ownerId: string): EventFilter {
  const userId = endUserOfOwner(ownerId);
  if (userId === undefined) return EVERY_EVENT;
  return { subject: userId, matches: (event) => isEventAbout(event, userId) };
}

/** A replay's `subject` parameter: an end user may ask only about themselves (403 otherwise). */
export function replaySubjectFor(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.kind !== 'end-user') return requested;
  if (requested !== undefined && requested !== principal.userId) {
    throw new ServiceError(
      'forbidden',
      `You may only read events about yourself (subject ${principal.userId}).`,
    );
  }
  return principal.userId;
}

/** A published event's subject: an end user publishes only about themselves (their id when left out). */
export function publishSubjectFor(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.kind !== 'end-user') return requested;
  if (requested !== undefined && requested !== principal.userId) {
    throw new ServiceError(
      'forbidden',
      `You may only publish events about yourself (subject ${principal.userId}).`,
    );
  }
  return principal.userId;
}

// ------------------------------------------------------------------------------------------------
// Operations (async commands)

/**
 * Checks a command before it is queued, and fills in what an end user may leave out (their own
 * user id or subject). Delete and the other admin commands (ADMIN_ONLY_COMMANDS) are for admins;
 * an end user's command must be about themselves.
 */
export function authorizeCommand(principal: Principal, command: Command): Command {
  // Deletes and the admin operations (users, content, exports, imports, batches) are for admins.
  if (ADMIN_ONLY_COMMANDS.has(command.command)) {
    if (!isAdmin(principal)) throw new ServiceError('forbidden', `${command.command} needs an admin.`);
    return command;
  }
  switch (command.command) {
    case 'sync_user_data':
      assertMayActForUser(principal, command.userId, 'sync the profile');
      return command;
    case 'publish_event': {
      const subject = publishSubjectFor(principal, command.subject);
      return { ...command, ...(subject !== undefined ? { subject } : {}) };
    }
    case 'comprehensive_analysis': {
      const userId = userIdFor(principal, command.userId, 'run an analysis about');
      return { ...command, ...(userId !== undefined ? { userId } : {}) };
    }
    case 'geographic_analysis':
    case 'bayesian_inference':
      return command;
    default:
      // The admin commands, checked above.
      return command;
  }
}

/**
 * May this principal read an operation owned by `ownerId` (undefined for operations recorded
 * before owners were)? Keys and app-role tokens: every operation, as before; an end user: only
 * their own (404 otherwise).
 */
export function mayReadOperation(principal: Principal, ownerId: string | undefined): boolean {
  return principal.kind !== 'end-user' || ownerId === ownerIdOf(principal);
}
