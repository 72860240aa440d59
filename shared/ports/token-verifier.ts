/**
 * TokenVerifier: checks a bearer token (a JWT from an OIDC issuer) and returns its claims. The
 * adapter (shared/adapters/auth/) fetches and caches the issuer's keys; what the claims mean
 * (app role, end user) is the identity service's business.
 */

/** Why a token was refused; each names one check, never key material. */
export type TokenFailure =
  | 'malformed'
  | 'expired'
  | 'not-yet-valid'
  | 'audience'
  | 'issuer'
  | 'algorithm'
  | 'signature'
  | 'unknown-key'
  | 'claims';

/** The token is not acceptable (the caller's fault): a 401. */
export class TokenRejectedError extends Error {
  override name = 'TokenRejectedError';
  constructor(
    readonly failure: TokenFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The issuer's keys could not be fetched or read (not the caller's fault): a 503. */
export class TokenVerifierUnavailableError extends Error {
  override name = 'TokenVerifierUnavailableError';
}

export type TokenClaims = Readonly<Record<string, unknown>>;

export interface TokenVerifier {
  /** The verified claims; throws TokenRejectedError or TokenVerifierUnavailableError. */
  verify(token: string): Promise<TokenClaims>;
}
