/**
 * KeyVaultSecretStore through the real SecretClient, over HTTPS, against a small fake Key Vault
 * REST server on 127.0.0.1 (self-signed certificate made here). The fake speaks the parts of the
 * REST API the adapter uses (GET/PUT a secret, list secret properties) and Key Vault's bearer
 * challenge: a request without a token gets 401 with `WWW-Authenticate: Bearer authorization=…,
 * resource=…`, after which the SDK asks the credential for a token and sends the request again.
 */
import { randomBytes } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { generate } from 'selfsigned';
import { KeyVaultSecretStore } from '../../shared/adapters/azure/key-vault-secret-store';
import { ManualClock } from '../helpers/test-services';

const TOKEN = 'fixed-test-token';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

interface Logged {
  method: string;
  path: string;
  authorization?: string;
  body: string;
}

interface StoredSecret {
  name: string;
  value: string;
  version: string;
  contentType?: string;
  created: number;
  updated: number;
}

class FakeKeyVault {
  readonly requests: Logged[] = [];
  readonly secrets = new Map<string, StoredSecret>();
  private server?: https.Server;
  url = '';

  async start(): Promise<string> {
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    this.server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return pems.cert;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  count(method: string, pathPrefix: string, authorized = true): number {
    return this.requests.filter(
      (r) =>
        r.method === method &&
        r.path.startsWith(pathPrefix) &&
        (r.authorization !== undefined) === authorized,
    ).length;
  }

  private handle(
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
    body: string,
  ) {
    const url = new URL(req.url ?? '/', this.url);
    const authorization = req.headers.authorization;
    this.requests.push({ method: req.method ?? '', path: url.pathname, authorization, body });
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    if (!url.searchParams.get('api-version'))
      return send(400, { error: { code: 'BadParameter', message: 'api-version' } });
    if (authorization !== `Bearer ${TOKEN}`) {
      return send(
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
        {
          'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`,
        },
      );
    }
    const bundle = (s: StoredSecret, withValue: boolean) => ({
      ...(withValue ? { value: s.value } : {}),
      id: `${this.url}/secrets/${s.name}${withValue ? `/${s.version}` : ''}`,
      ...(s.contentType ? { contentType: s.contentType } : {}),
      attributes: {
        enabled: true,
        created: s.created,
        updated: s.updated,
        recoveryLevel: 'Recoverable+Purgeable',
      },
    });
    if (req.method === 'GET' && url.pathname === '/secrets') {
      const all = [...this.secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
      const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
      const page = all.slice(skip, skip + 2);
      const nextLink =
        skip + 2 < all.length
          ? `${this.url}/secrets?api-version=${url.searchParams.get('api-version')}&$skiptoken=${skip + 2}`
          : null;
      return send(200, { value: page.map((s) => bundle(s, false)), nextLink });
    }
    const m = /^\/secrets\/([0-9A-Za-z-]+)(?:\/([0-9a-f]*))?\/?$/.exec(url.pathname);
    if (!m) return send(404, { error: { code: 'NotFound', message: url.pathname } });
    const key = (m[1] as string).toLowerCase();
    if (req.method === 'GET') {
      const secret = this.secrets.get(key);
      if (!secret)
        return send(404, {
          error: {
            code: 'SecretNotFound',
            message: `A secret with (name/id) ${m[1]} was not found in this key vault.`,
          },
        });
      return send(200, bundle(secret, true));
    }
    if (req.method === 'PUT') {
      const parsed = JSON.parse(body) as { value: string; contentType?: string };
      const now = Math.floor(Date.now() / 1000);
      const previous = this.secrets.get(key);
      const secret: StoredSecret = {
        name: previous?.name ?? (m[1] as string),
        value: parsed.value,
        version: randomBytes(16).toString('hex'),
        ...(parsed.contentType ? { contentType: parsed.contentType } : {}),
        created: previous?.created ?? now,
        updated: now,
      };
      this.secrets.set(key, secret);
      return send(200, bundle(secret, true));
    }
    return send(405, { error: { code: 'MethodNotAllowed', message: req.method } });
  }
}

class StubCredential implements TokenCredential {
  readonly calls: { scopes: string[]; tenantId?: string }[] = [];
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.calls.push({
      scopes: [scopes].flat(),
      ...(options?.tenantId ? { tenantId: options.tenantId } : {}),
    });
    return { token: TOKEN, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

describe('KeyVaultSecretStore over HTTPS (fake Key Vault)', () => {
  const vault = new FakeKeyVault();
  let ca: string;

  beforeAll(async () => {
    ca = await vault.start();
  });
  afterAll(async () => {
    await vault.stop();
  });
  beforeEach(() => {
    vault.requests.length = 0;
    vault.secrets.clear();
  });

  const makeStore = (clock: ManualClock, credential = new StubCredential(), cacheSeconds = 300) =>
    new KeyVaultSecretStore({
      vaultUrl: vault.url,
      credential,
      cacheSeconds,
      clock,
      clientOptions: {
        disableChallengeResourceVerification: true,
        tlsOptions: { ca },
        retryOptions: { maxRetries: 0 },
      },
    });

  it('answers the bearer challenge: the first request goes without token or body, then again with both', async () => {
    const credential = new StubCredential();
    const store = makeStore(new ManualClock(), credential);
    const meta = await store.set('openai-api-key', 'sk-123');
    expect(meta).toMatchObject({
      name: 'openai-api-key',
      enabled: true,
      source: 'keyvault',
      readOnly: false,
    });
    expect(meta.createdOn).toMatch(/^\d{4}-\d\d-\d\dT/);
    const [challenge, retried] = vault.requests;
    expect(challenge).toMatchObject({
      method: 'PUT',
      path: '/secrets/openai-api-key',
      authorization: undefined,
      body: '',
    });
    expect(retried).toMatchObject({
      method: 'PUT',
      path: '/secrets/openai-api-key',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(JSON.parse(retried!.body)).toMatchObject({ value: 'sk-123' });
    expect(credential.calls).toEqual([{ scopes: ['https://vault.azure.net/.default'], tenantId: TENANT }]);
    // Once the challenge is done, requests carry the token from the start.
    await store.list();
    expect(vault.count('GET', '/secrets', false)).toBe(0);
  });

  it('caches a read until BRIDGE_SECRET_CACHE_SECONDS pass, then reads again', async () => {
    const clock = new ManualClock();
    const store = makeStore(clock);
    await store.set('groq-key', 'g-1');
    vault.secrets.get('groq-key')!.value = 'g-2'; // changed behind the bridge's back (another instance)
    vault.requests.length = 0;
    const fresh = makeStore(clock);
    expect(await fresh.get('groq-key')).toBe('g-2');
    const gets = () => vault.count('GET', '/secrets/groq-key');
    expect(gets()).toBe(1);
    vault.secrets.get('groq-key')!.value = 'g-3';
    clock.advance(299_000);
    expect(await fresh.get('groq-key')).toBe('g-2');
    expect(await fresh.get('GROQ-KEY')).toBe('g-2');
    expect(gets()).toBe(1);
    clock.advance(2_000);
    expect(await fresh.get('groq-key')).toBe('g-3');
    expect(gets()).toBe(2);
  });

  it('concurrent reads of one name share one request; a write refreshes the cache at once', async () => {
    const clock = new ManualClock();
    const store = makeStore(clock);
    await store.set('shared', 'v1');
    const other = makeStore(clock);
    vault.requests.length = 0;
    const values = await Promise.all(Array.from({ length: 5 }, () => other.get('shared')));
    expect(values).toEqual(['v1', 'v1', 'v1', 'v1', 'v1']);
    expect(vault.count('GET', '/secrets/shared')).toBe(1);
    await other.set('shared', 'v2');
    expect(await other.get('shared')).toBe('v2');
    expect(vault.count('GET', '/secrets/shared')).toBe(1);
  });

  it('a missing secret is undefined (and not cached); cacheSeconds 0 reads every time', async () => {
    const clock = new ManualClock();
    const store = makeStore(clock, new StubCredential(), 0);
    expect(await store.get('nope')).toBeUndefined();
    await store.set('nope', 'now');
    expect(await store.get('nope')).toBe('now');
    expect(await store.get('nope')).toBe('now');
    expect(vault.count('GET', '/secrets/nope')).toBe(3);
  });

  it('lists names and metadata across pages, never values', async () => {
    const store = makeStore(new ManualClock());
    for (const name of ['c-key', 'a-key', 'b-key', 'd-key', 'e-key'])
      await store.set(name, `value-of-${name}`);
    const list = await store.list();
    expect(list.map((s) => s.name)).toEqual(['a-key', 'b-key', 'c-key', 'd-key', 'e-key']);
    expect(JSON.stringify(list)).not.toContain('value-of');
    expect(list[0]).toEqual({
      name: 'a-key',
      enabled: true,
      source: 'keyvault',
      readOnly: false,
      createdOn: expect.any(String),
      updatedOn: expect.any(String),
    });
    expect(vault.count('GET', '/secrets')).toBeGreaterThanOrEqual(3);
  });
});
