import type { Scope } from './scopes';

/**
 * Who is calling, as a union discriminated on `kind`:
 *
 * - `key`: a portal API key (or the bootstrap admin key) with its role; optionally narrowed to
 *   `scopes` (undefined = the role's full reach, as every key issued before scopes existed).
 * - `token`: an OIDC bearer token carrying the app role `admin` or `service`: acts as that role.
 * - `end-user`: any other valid bearer token: one person, `userId` taken from the configured
 *   claim. Its `role` is `user` (what it writes counts as a user-portal write: protected fields
 *   apply), but it may touch only its own data — access-policy.ts decides that, never this file.
 *
 * Code that only passes a principal along needs nothing else; anything that asks "may this
 * principal touch object X" goes through access-policy.ts.
 */

export type Role = 'admin' | 'user' | 'service';
export const ROLES: readonly Role[] = ['admin', 'user', 'service'];

/** The app roles a token may carry (Entra ID app roles; `roles` claim). */
export type AppRole = 'admin' | 'service';
export const APP_ROLES: readonly AppRole[] = ['admin', 'service'];

/**
 * Who a route admits, in `access.roles`: a role (keys and app-role tokens of that role) or
 * `end-user` (people signed in with a bearer token; list it only where access-policy.ts narrows
 * the route to the caller's own data).
 */
export type RouteRole = Role | 'end-user';
export const ROUTE_ROLES: readonly RouteRole[] = ['admin', 'user', 'service', 'end-user'];

export interface KeyPrincipal {
  kind: 'key';
  keyId: string;
  role: Role;
  name: string;
  /** The route groups this key may call; undefined = every route its role may call. */
  scopes?: readonly Scope[];
}

export interface TokenPrincipal {
  kind: 'token';
  /** The token's user claim (BRIDGE_AUTH_USER_CLAIM): the calling app or person. */
  subject: string;
  role: AppRole;
  name: string;
}

export interface EndUserPrincipal {
  kind: 'end-user';
  userId: string;
  role: 'user';
  name: string;
}

export type Principal = KeyPrincipal | TokenPrincipal | EndUserPrincipal;

export function keyPrincipal(
  keyId: string,
  role: Role,
  name: string,
  scopes?: readonly Scope[],
): KeyPrincipal {
  return { kind: 'key', keyId, role, name, ...(scopes ? { scopes } : {}) };
}

export function tokenPrincipal(subject: string, role: AppRole, name = `token ${subject}`): TokenPrincipal {
  return { kind: 'token', subject, role, name };
}

export function endUserPrincipal(userId: string): EndUserPrincipal {
  return { kind: 'end-user', userId, role: 'user', name: `user ${userId}` };
}

/** The route role a principal is checked against (`access.roles`). */
export function routeRoleOf(principal: Principal): RouteRole {
  return principal.kind === 'end-user' ? 'end-user' : principal.role;
}

/**
 * A stable, unique id for a principal: `key:<keyId>`, `token:<subject>`, `user:<userId>`. Rate
 * limits, usage and idempotency records are kept under it.
 */
export function principalKey(principal: Principal): string {
  switch (principal.kind) {
    case 'key':
      return `key:${principal.keyId}`;
    case 'token':
      return `token:${principal.subject}`;
    case 'end-user':
      return `user:${principal.userId}`;
  }
}

/**
 * The id recorded as who did something (event publisher, importer, owner): a key's id as it was
 * always recorded, `token:<subject>` or `user:<userId>` for the others (key ids have no colon).
 */
export function actorIdOf(principal: Principal): string {
  return principal.kind === 'key' ? principal.keyId : principalKey(principal);
}

/**
 * A principal in a form that survives a queue (bridge-commands) or a record (a ledger's `by`).
 * Keys keep the shape they always had (`{role, keyId}`); scopes are not carried: they were checked
 * when the work was accepted.
 */
export type PrincipalRef =
  | { kind?: 'key'; role: Role; keyId: string }
  | { kind: 'token'; role: AppRole; subject: string }
  | { kind: 'end-user'; role: 'user'; userId: string };

export function principalRef(principal: Principal): PrincipalRef {
  switch (principal.kind) {
    case 'key':
      return { kind: 'key', role: principal.role, keyId: principal.keyId };
    case 'token':
      return { kind: 'token', role: principal.role, subject: principal.subject };
    case 'end-user':
      return { kind: 'end-user', role: 'user', userId: principal.userId };
  }
}

export function principalFromRef(ref: PrincipalRef): Principal {
  switch (ref.kind) {
    case 'token':
      return tokenPrincipal(ref.subject, ref.role);
    case 'end-user':
      return endUserPrincipal(ref.userId);
    default:
      return keyPrincipal(ref.keyId, ref.role, ref.keyId);
  }
}
