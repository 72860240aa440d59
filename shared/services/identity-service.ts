import { USER_ID_PATTERN } from '../domain/ids';
import {
  TokenRejectedError,
  type TokenClaims,
  type TokenFailure,
  type TokenVerifier,
} from '../ports/token-verifier';
import type { ApiKeyService } from './api-key-service';
import { APP_ROLES, endUserPrincipal, tokenPrincipal, type AppRole, type Principal } from './principal';

/**
 * Who is calling, from the request's credentials: `x-api-key: <key>` (a portal key) or
 * `Authorization: Bearer <JWT>` (an OIDC token, when BRIDGE_AUTH_ISSUER is set). A token with the
 * app role `admin` or `service` (claim `roles`) acts as that role; any other valid token is an end
 * user whose id is the BRIDGE_AUTH_USER_CLAIM claim.
 */

export type AuthFailure =
  | 'missing-credentials'
  | 'ambiguous-credentials'
  | 'invalid-key'
  | 'key-expired'
  | 'token-auth-off'
  | `token-${TokenFailure}`;

/** The request's credentials are missing or not acceptable: a 401 (400 for `ambiguous-credentials`). */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  constructor(
    readonly reason: AuthFailure,
    message: string,
    /** Which scheme the failure is about (the WWW-Authenticate challenge to send). */
    readonly scheme: 'api-key' | 'bearer',
  ) {
    super(message);
  }
}

export interface Credentials {
  /** The x-api-key header. */
  apiKey?: string | null;
  /** The Authorization header. */
  authorization?: string | null;
}

export interface IdentityServiceDeps {
  apiKeys: ApiKeyService;
  /** Absent when token authentication is off (no BRIDGE_AUTH_ISSUER). */
  tokens?: TokenVerifier;
  /** The claim holding the user id (BRIDGE_AUTH_USER_CLAIM). */
  userClaim: string;
}

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i;

export class IdentityService {
  constructor(private readonly deps: IdentityServiceDeps) {}

  get tokensEnabled(): boolean {
    return this.deps.tokens !== undefined;
  }

  async authenticate(credentials: Credentials): Promise<Principal> {
    const { apiKey, authorization } = credentials;
    const bearer = authorization ? /^bearer\b/i.test(authorization.trim()) : false;
    if (apiKey && bearer) {
      throw new AuthenticationError(
        'ambiguous-credentials',
        'Send either an x-api-key header or an Authorization: Bearer token, not both.',
        'bearer',
      );
    }
    if (apiKey) return this.fromKey(apiKey);
    if (bearer && authorization) return this.fromToken(authorization);
    throw new AuthenticationError(
      'missing-credentials',
      this.tokensEnabled
        ? 'Send an API key in the x-api-key header or a token in Authorization: Bearer.'
        : 'Send an API key in the x-api-key header.',
      'api-key',
    );
  }

  private async fromKey(presented: string): Promise<Principal> {
    const check = await this.deps.apiKeys.check(presented);
    if (check.ok) return check.principal;
    if (check.reason === 'expired') {
      throw new AuthenticationError('key-expired', `The API key expired at ${check.expiredAt}.`, 'api-key');
    }
    throw new AuthenticationError('invalid-key', 'The API key is not valid or has been revoked.', 'api-key');
  }

  private async fromToken(authorization: string): Promise<Principal> {
    const { tokens } = this.deps;
    if (!tokens) {
      throw new AuthenticationError(
        'token-auth-off',
        'Bearer tokens are not accepted: token authentication is off on this bridge (no BRIDGE_AUTH_ISSUER). Use an API key.',
        'bearer',
      );
    }
    const token = BEARER.exec(authorization.trim())?.[1];
    if (!token) {
      throw new AuthenticationError(
        'token-malformed',
        'The Authorization header is not "Bearer <token>".',
        'bearer',
      );
    }
    let claims: TokenClaims;
    try {
      claims = await tokens.verify(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        throw new AuthenticationError(`token-${error.failure}`, error.message, 'bearer');
      }
      throw error;
    }
    return this.principalOf(claims);
  }

  private principalOf(claims: TokenClaims): Principal {
    const { userClaim } = this.deps;
    const subject = claims[userClaim];
    if (typeof subject !== 'string' || !USER_ID_PATTERN.test(subject)) {
      throw new AuthenticationError(
        'token-claims',
        `The token's ${userClaim} claim is missing or not a valid user id (1-128 letters, digits, ".", "_", "@", "-").`,
        'bearer',
      );
    }
    const role = appRoleOf(claims.roles);
    return role ? tokenPrincipal(subject, role) : endUserPrincipal(subject);
  }
}

/** The strongest app role the token carries (`roles` claim: an array, as Entra ID issues it). */
function appRoleOf(roles: unknown): AppRole | undefined {
  const list = Array.isArray(roles) ? roles : typeof roles === 'string' ? [roles] : [];
  return APP_ROLES.find((role) => list.includes(role));
}
