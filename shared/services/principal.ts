/**
 * Who is calling. Today every caller is a portal API key with a role; the union is discriminated
 * on `kind` so that other kinds of caller (an end user from a bearer token, issue 10) can be added
 * without touching the code that only passes a principal along. Object-level decisions about a
 * principal ("may it act for user X", "may it touch subscription S") live in access-policy.ts.
 */

export type Role = 'admin' | 'user' | 'service';
export const ROLES: readonly Role[] = ['admin', 'user', 'service'];

/** A portal key (or the bootstrap admin key): acts with its role's reach. */
export interface KeyPrincipal {
  kind: 'key';
  keyId: string;
  role: Role;
  name: string;
}

export type Principal = KeyPrincipal;

export function keyPrincipal(keyId: string, role: Role, name: string): KeyPrincipal {
  return { kind: 'key', keyId, role, name };
}
