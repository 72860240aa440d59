/**
 * Bearer tokens against an OIDC issuer started on loopback (discovery + JWKS, keys made with
 * jose): a valid token works; every kind of bad token is a 401 naming why, with an RFC 6750
 * challenge and nothing of the token or the keys in the answer.
 */
import { keysList } from '../../../functions/keys-list';
import { usersGet } from '../../../functions/users-get';
import { setServices, type Services } from '../../../shared/container';
import { invokeHandler } from '../../helpers/invoke-handler';
import { issuerSettings, startOidcIssuer, tamper, type OidcIssuer } from '../../helpers/oidc-issuer';
import { makeTestServices, TEST_ADMIN_KEY } from '../../helpers/test-services';
import type { HttpHandler } from '@azure/functions';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

async function call(
  handler: HttpHandler,
  headers: Record<string, string>,
  params: Record<string, string> = {},
) {
  const res = await invokeHandler(handler, { method: 'GET', headers, params });
  return {
    status: res.status,
    headers: res.headers,
    raw: res.raw,
    json: (res.raw ? JSON.parse(res.raw) : undefined) as AnyJson,
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('bearer tokens (OIDC issuer on loopback)', () => {
  let issuer: OidcIssuer;
  let services: Services;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    ({ services, cleanup } = makeTestServices(issuerSettings(issuer)));
    setServices(services);
    await services.sync.sync('ann', { data: { name: 'Ann' } }, 'admin');
    await services.sync.sync('bob', { data: { name: 'Bob' } }, 'admin');
  });
  afterAll(async () => {
    setServices(undefined);
    await cleanup();
    await issuer.close();
  });

  const getAnn = (headers: Record<string, string>) => call(usersGet, headers, { userId: 'ann' });

  it('a valid token is an end user: their own profile 200, anyone else’s 403', async () => {
    const token = await issuer.sign({ sub: 'ann' });
    const own = await getAnn(bearer(token));
    expect(own.status).toBe(200);
    expect(own.json.data).toEqual({ name: 'Ann' });
    const other = await call(usersGet, bearer(token), { userId: 'bob' });
    expect(other.status).toBe(403);
    expect(other.json.detail).toMatch(/only your own/);
  });

  it.each(['ES256', 'PS256'] as const)('%s keys are accepted too', async (alg) => {
    const key = await issuer.makeKey(alg);
    issuer.publish(key);
    expect((await getAnn(bearer(await issuer.sign({ sub: 'ann' }, { key })))).status).toBe(200);
  });

  const refused: [name: string, reason: string, make: () => Promise<string>][] = [
    ['expired', 'token-expired', () => issuer.sign({ sub: 'ann' }, { expiresIn: -120 })],
    ['not yet valid', 'token-not-yet-valid', () => issuer.sign({ sub: 'ann' }, { notBefore: 600 })],
    [
      'for another audience',
      'token-audience',
      () => issuer.sign({ sub: 'ann' }, { audience: 'api://other' }),
    ],
    [
      'from another issuer',
      'token-issuer',
      () => issuer.sign({ sub: 'ann' }, { issuer: 'https://evil.example' }),
    ],
    ['alg: none', 'token-algorithm', async () => issuer.unsigned({ sub: 'ann' })],
    ['HS256 signed with the public key', 'token-algorithm', () => issuer.hmacWithPublicKey({ sub: 'ann' })],
    [
      'with a tampered payload',
      'token-signature',
      async () => tamper(await issuer.sign({ sub: 'bob' }), { sub: 'ann' }),
    ],
    ['without exp', 'token-claims', () => issuer.sign({ sub: 'ann' }, { noExpiry: true })],
    ['whose user claim is not a user id', 'token-claims', () => issuer.sign({ sub: 'ann/../bob' })],
    ['that is not a JWT', 'token-malformed', async () => 'xxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyy.zzzzzzzz'],
  ];

  it.each(refused)(
    'a token %s → 401 %s, with a Bearer challenge and no key material',
    async (_name, reason, make) => {
      const token = await make();
      const res = await getAnn(bearer(token));
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ type: 'urn:portal-bridge:problem:unauthorized', reason });
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="portal-bridge", error="invalid_token", error_description="[^"]+"$/,
      );
      expect(res.raw).not.toContain(token.split('.')[1] || token);
      for (const key of issuer.published) expect(res.raw).not.toContain(String(key.jwk.n ?? key.jwk.x));
    },
  );

  it('an unknown kid is refused, then accepted once the issuer publishes the key (rotation, no restart)', async () => {
    const next = await issuer.makeKey('RS256', 'rotated-in');
    const token = await issuer.sign({ sub: 'ann' }, { key: next });
    const before = await getAnn(bearer(token));
    expect(before).toMatchObject({ status: 401, json: { reason: 'token-unknown-key' } });
    issuer.publish(next);
    expect((await getAnn(bearer(token))).status).toBe(200);
  });

  it('a token with the app role admin acts as admin; service as service; both → admin', async () => {
    const admin = await issuer.sign({ sub: 'portal-admin-app', roles: ['admin'] });
    expect((await call(keysList, bearer(admin))).status).toBe(200);
    expect((await call(usersGet, bearer(admin), { userId: 'bob' })).status).toBe(200);
    const service = await issuer.sign({ sub: 'matcher-app', roles: ['service'] });
    const refused = await call(keysList, bearer(service));
    expect(refused).toMatchObject({ status: 403, json: { reason: 'role' } });
    expect((await call(usersGet, bearer(service), { userId: 'bob' })).status).toBe(200);
    const both = await issuer.sign({ sub: 'ops-app', roles: ['service', 'admin'] });
    expect((await call(keysList, bearer(both))).status).toBe(200);
    const other = await issuer.sign({ sub: 'ann', roles: ['reader'] });
    expect((await call(keysList, bearer(other))).json).toMatchObject({ reason: 'role' });
  });

  it('API keys keep working beside tokens; both at once is a 400; none a 401 offering both schemes', async () => {
    expect((await getAnn({ 'x-api-key': TEST_ADMIN_KEY })).status).toBe(200);
    const token = await issuer.sign({ sub: 'ann' });
    const both = await getAnn({ 'x-api-key': TEST_ADMIN_KEY, ...bearer(token) });
    expect(both).toMatchObject({ status: 400, json: { reason: 'ambiguous-credentials' } });
    expect(both.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
    const none = await getAnn({});
    expect(none).toMatchObject({ status: 401, json: { reason: 'missing-credentials' } });
    expect(none.headers.get('www-authenticate')).toBe(
      'ApiKey header="x-api-key", Bearer realm="portal-bridge"',
    );
    const wrongScheme = await getAnn({ authorization: 'Basic YW5uOnB3' });
    expect(wrongScheme).toMatchObject({ status: 401, json: { reason: 'missing-credentials' } });
  });
});

describe('bearer tokens: key fetching', () => {
  let issuer: OidcIssuer;
  beforeEach(async () => {
    issuer = await startOidcIssuer();
  });
  afterEach(async () => {
    setServices(undefined);
    await issuer.close();
  });

  it('made-up kids refetch the key set at most once per cooldown', async () => {
    const { services, cleanup } = makeTestServices(
      issuerSettings(issuer, { BRIDGE_AUTH_JWKS_COOLDOWN_SECONDS: '300' }),
    );
    setServices(services);
    try {
      expect(
        (await call(usersGet, bearer(await issuer.sign({ sub: 'ann' })), { userId: 'ann' })).status,
      ).toBe(404);
      expect(issuer.fetches).toEqual({ discovery: 1, jwks: 1 });
      for (let i = 0; i < 5; i++) {
        const stranger = await issuer.makeKey('RS256', `made-up-${i}`);
        const res = await call(usersGet, bearer(await issuer.sign({ sub: 'ann' }, { key: stranger })), {
          userId: 'ann',
        });
        expect(res.json).toMatchObject({ reason: 'token-unknown-key' });
      }
      // The first fetch is still fresh within the cooldown: no refetch at all.
      expect(issuer.fetches.jwks).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('a discovery document naming another issuer is refused: 503, API keys unaffected', async () => {
    issuer.discoveryIssuer = 'https://login.example.invalid/other';
    const { services, cleanup } = makeTestServices(issuerSettings(issuer));
    setServices(services);
    try {
      const res = await call(usersGet, bearer(await issuer.sign({ sub: 'ann' })), { userId: 'ann' });
      expect(res).toMatchObject({
        status: 503,
        json: { type: 'urn:portal-bridge:problem:token-verification-unavailable' },
      });
      expect(res.headers.get('retry-after')).toBe('5');
      expect((await call(usersGet, { 'x-api-key': TEST_ADMIN_KEY }, { userId: 'ann' })).status).toBe(404);
    } finally {
      await cleanup();
    }
  });

  it('BRIDGE_AUTH_JWKS_URL skips discovery', async () => {
    const { services, cleanup } = makeTestServices(
      issuerSettings(issuer, { BRIDGE_AUTH_JWKS_URL: `${issuer.url}/jwks` }),
    );
    setServices(services);
    try {
      const res = await call(usersGet, bearer(await issuer.sign({ sub: 'ann' })), { userId: 'ann' });
      expect(res.status).toBe(404);
      expect(issuer.fetches).toEqual({ discovery: 0, jwks: 1 });
    } finally {
      await cleanup();
    }
  });

  it('with token authentication off, a bearer token gets a 401 saying so', async () => {
    const { services, cleanup } = makeTestServices();
    setServices(services);
    try {
      const res = await call(usersGet, bearer(await issuer.sign({ sub: 'ann' })), { userId: 'ann' });
      expect(res).toMatchObject({ status: 401, json: { reason: 'token-auth-off' } });
      expect(res.json.detail).toMatch(/token authentication is off/);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      expect(issuer.fetches).toEqual({ discovery: 0, jwks: 0 });
    } finally {
      await cleanup();
    }
  });
});
