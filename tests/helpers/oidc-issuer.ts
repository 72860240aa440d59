/**
 * An OIDC issuer on loopback for tests: the discovery document
 * (`/.well-known/openid-configuration`) and a JSON Web Key Set (`/jwks`), with keys made by jose,
 * and a signer for tokens (valid ones and every kind of bad one).
 *
 *   const issuer = await startOidcIssuer();
 *   const token = await issuer.sign({ sub: 'ann' });
 *   ...
 *   await issuer.close();
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'PS256';
  keys: KeyPair;
  jwk: JWK;
}

export interface SignOptions {
  /** Key to sign with (default: the first published key). */
  key?: SigningKey;
  issuer?: string;
  audience?: string | string[];
  /** Seconds from now; negative = already expired. Default 600. */
  expiresIn?: number;
  /** Seconds from now for nbf. */
  notBefore?: number;
  /** Leave exp out entirely. */
  noExpiry?: boolean;
}

export interface OidcIssuer {
  /** The issuer URL (also `iss` of its tokens): http://127.0.0.1:<port>. */
  url: string;
  audience: string;
  /** Keys published in the JWKS now. */
  published: SigningKey[];
  /** How often the JWKS and the discovery document were fetched. */
  fetches: { jwks: number; discovery: number };
  makeKey(alg?: SigningKey['alg'], kid?: string): Promise<SigningKey>;
  /** Publish a key (rotation). */
  publish(key: SigningKey): void;
  sign(claims: JWTPayload, options?: SignOptions): Promise<string>;
  /** A token with `alg: none` and no signature. */
  unsigned(claims: JWTPayload): string;
  /** HS256 "signed" with the published key's public key (the algorithm-confusion attack). */
  hmacWithPublicKey(claims: JWTPayload): Promise<string>;
  /** Overrides the discovery document's issuer (to test a mismatch). */
  discoveryIssuer?: string;
  close(): Promise<void>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startOidcIssuer(audience = 'api://portal-bridge-tests'): Promise<OidcIssuer> {
  const published: SigningKey[] = [];
  const fetches = { jwks: 0, discovery: 0 };
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      fetches.discovery += 1;
      return send(200, { issuer: issuer.discoveryIssuer ?? url, jwks_uri: `${url}/jwks` });
    }
    if (req.url === '/jwks') {
      fetches.jwks += 1;
      return send(200, { keys: published.map((k) => k.jwk) });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let counter = 0;

  const makeKey = async (alg: SigningKey['alg'] = 'RS256', kid = `key-${++counter}`): Promise<SigningKey> => {
    const keys = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(keys.publicKey)), kid, alg, use: 'sig' };
    return { kid, alg, keys, jwk };
  };

  const issuer: OidcIssuer = {
    url,
    audience,
    published,
    fetches,
    makeKey,
    publish: (key) => void published.push(key),
    async sign(claims, options = {}) {
      const key = options.key ?? published[0];
      if (!key) throw new Error('no key published');
      const now = Math.floor(Date.now() / 1000);
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .setIssuer(options.issuer ?? url)
        .setAudience(options.audience ?? audience)
        .setIssuedAt(now);
      if (!options.noExpiry) jwt = jwt.setExpirationTime(now + (options.expiresIn ?? 600));
      if (options.notBefore !== undefined) jwt = jwt.setNotBefore(now + options.notBefore);
      return jwt.sign(key.keys.privateKey);
    },
    unsigned(claims) {
      const now = Math.floor(Date.now() / 1000);
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: url, aud: audience, iat: now, exp: now + 600, ...claims })}.`;
    },
    async hmacWithPublicKey(claims) {
      const key = published[0];
      if (!key) throw new Error('no key published');
      const pem = await exportSPKI(key.keys.publicKey);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(url)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(new TextEncoder().encode(pem));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  issuer.publish(await makeKey('RS256'));
  return issuer;
}

/** Settings that point the bridge at this issuer. */
export function issuerSettings(
  issuer: OidcIssuer,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    BRIDGE_AUTH_ISSUER: issuer.url,
    BRIDGE_AUTH_AUDIENCE: issuer.audience,
    BRIDGE_AUTH_CLOCK_SKEW_SECONDS: '5',
    BRIDGE_AUTH_JWKS_COOLDOWN_SECONDS: '0',
    ...extra,
  };
}

/** A JWT with one payload claim changed after signing (the signature no longer matches). */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const body = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), ...claims };
  return `${header}.${b64(body)}.${signature}`;
}
