import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { TokenAuthConfig } from '../../config';
import { isHttpsOrLoopback } from '../../domain/loopback-url';
import {
  TokenRejectedError,
  TokenVerifierUnavailableError,
  type TokenClaims,
  type TokenVerifier,
} from '../../ports/token-verifier';

/**
 * Bearer tokens checked with `jose` against an OIDC issuer's keys: the key set comes from
 * BRIDGE_AUTH_JWKS_URL, or from the issuer's discovery document
 * (`<issuer>/.well-known/openid-configuration`, whose `issuer` must equal the configured one).
 *
 * Only asymmetric algorithms are accepted (RS256, ES256, PS256), so neither `alg: none` nor an
 * HMAC "signed" with a public key can pass. `iss`, `aud`, `exp` (required) and `nbf` are checked
 * with BRIDGE_AUTH_CLOCK_SKEW_SECONDS of tolerance. Keys are cached for
 * BRIDGE_AUTH_JWKS_CACHE_SECONDS; a token naming an unknown `kid` refetches the set at most once
 * per BRIDGE_AUTH_JWKS_COOLDOWN_SECONDS (key rotation without a restart, without letting made-up
 * `kid`s hammer the issuer). No secret is needed: only public keys are read.
 */

export const ACCEPTED_ALGORITHMS = ['RS256', 'ES256', 'PS256'];
/** Longest token considered (Entra ID tokens are 1-3 KB); longer is malformed. */
export const MAX_TOKEN_LENGTH = 16_384;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_DISCOVERY_BYTES = 256 * 1024;

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.string() });

/** https, or http on a loopback address (tests, local development). */
function checkedUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TokenVerifierUnavailableError(`${what} is not a URL`);
  }
  if (!isHttpsOrLoopback(url)) {
    throw new TokenVerifierUnavailableError(`${what} must be https (plain http only on a loopback address)`);
  }
  return url;
}

export class OidcTokenVerifier implements TokenVerifier {
  private keys?: Promise<JWTVerifyGetKey>;
  private lastFailureAt = -Infinity;

  constructor(
    private readonly config: TokenAuthConfig,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async verify(token: string): Promise<TokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new TokenRejectedError('malformed', `The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
    }
    const getKey = await this.keySet();
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (error) {
      throw translate(error);
    }
  }

  /** The issuer's key set (discovered once); a failed discovery is retried at most once per cooldown. */
  private keySet(): Promise<JWTVerifyGetKey> {
    if (!this.keys) {
      if (Date.now() - this.lastFailureAt < this.config.jwksCooldownSeconds * 1000) {
        return Promise.reject(
          new TokenVerifierUnavailableError('The token issuer could not be reached recently; retry shortly.'),
        );
      }
      const keys = this.jwksUrl().then((url) =>
        createRemoteJWKSet(url, {
          timeoutDuration: FETCH_TIMEOUT_MS,
          cooldownDuration: this.config.jwksCooldownSeconds * 1000,
          cacheMaxAge: this.config.jwksCacheSeconds * 1000,
        }),
      );
      keys.catch(() => {
        this.keys = undefined;
        this.lastFailureAt = Date.now();
      });
      this.keys = keys;
    }
    return this.keys;
  }

  private async jwksUrl(): Promise<URL> {
    if (this.config.jwksUrl) return checkedUrl(this.config.jwksUrl, 'BRIDGE_AUTH_JWKS_URL');
    const discoveryUrl = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: unknown;
    try {
      const response = await this.fetchImpl(discoveryUrl, {
        redirect: 'manual',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        headers: { accept: 'application/json' },
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_DISCOVERY_BYTES) throw new Error('the document is too large');
      document = JSON.parse(text);
    } catch (error) {
      throw new TokenVerifierUnavailableError(
        `OIDC discovery at ${discoveryUrl} failed: ${(error as Error).message}`,
      );
    }
    const parsed = discoverySchema.safeParse(document);
    if (!parsed.success) {
      throw new TokenVerifierUnavailableError(`OIDC discovery at ${discoveryUrl}: no issuer or jwks_uri`);
    }
    if (parsed.data.issuer !== this.config.issuer) {
      throw new TokenVerifierUnavailableError(
        `OIDC discovery at ${discoveryUrl} names issuer ${parsed.data.issuer}, not ${this.config.issuer}`,
      );
    }
    return checkedUrl(parsed.data.jwks_uri, 'the discovered jwks_uri');
  }
}

/** jose's errors → a refusal naming the failed check, or "unavailable" when the keys could not be had. */
function translate(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('expired', 'The token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return new TokenRejectedError('not-yet-valid', 'The token is not valid yet (nbf).');
      case 'aud':
        return new TokenRejectedError('audience', 'The token is not for this API (aud).');
      case 'iss':
        return new TokenRejectedError('issuer', 'The token is from another issuer (iss).');
      default:
        return new TokenRejectedError('claims', `The token's ${error.claim} claim is not acceptable.`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new TokenRejectedError(
      'algorithm',
      `The token's algorithm is not accepted; accepted: ${ACCEPTED_ALGORITHMS.join(', ')}.`,
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejectedError('signature', 'The token signature does not verify.');
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenRejectedError(
      'unknown-key',
      "The token's signing key (kid) is not one of the issuer's keys.",
    );
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokenRejectedError('malformed', 'The token is not a well-formed signed JWT.');
  }
  if (error instanceof TokenVerifierUnavailableError) return error;
  // Fetching or reading the key set failed (timeout, network, a non-200, a broken key set).
  return new TokenVerifierUnavailableError(
    `The issuer's keys could not be read: ${(error as Error)?.message ?? String(error)}`,
  );
}
