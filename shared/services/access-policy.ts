import type { Principal } from './principal';

/**
 * Object-level access: the one place that decides whether a principal may act on a given object
 * (OWASP API1). Route-level role checks stay in each route's `access`; everything that depends on
 * *which* object is decided here, so adding a kind of principal means changing this file.
 *
 * Owners: records that belong to a caller store `ownerIdOf(principal)` (e.g. a subscription's
 * `createdBy`). For a key it is the key id, as stored before owners were enforced.
 */

/** The id recorded as the owner of what this principal creates. */
export function ownerIdOf(principal: Principal): string {
  return principal.keyId;
}

/** The scope of a principal's idempotency records: a key reused by another caller never collides. */
export function idempotencyScopeOf(principal: Principal): string {
  return `key:${principal.keyId}`;
}

/** Admins see and manage everything. */
export function isAdmin(principal: Principal): boolean {
  return principal.role === 'admin';
}

/** May this principal read, change or delete an object owned by `ownerId`? */
export function mayManageOwned(principal: Principal, ownerId: string): boolean {
  return isAdmin(principal) || ownerIdOf(principal) === ownerId;
}

/**
 * May this principal act for user `userId` (read or write their profile, spend their tokens …)?
 * Every portal key may: the portals act for all of their users.
 */
export function mayActForUser(principal: Principal, _userId: string): boolean {
  return principal.kind === 'key';
}

/**
 * The user a principal acts as by default, when a request names none (an end user: themselves).
 * Portal keys act for any user and have no default: they must name one.
 */
export function defaultUserIdOf(_principal: Principal): string | undefined {
  return undefined;
}
