/**
 * Realtime push (BRIDGE_REALTIME=webpubsub) through the real WebPubSubServiceClient, over HTTPS,
 * against a small fake of the Web PubSub REST API on 127.0.0.1 (self-signed certificate made
 * here). The fake speaks what the adapter uses — `:generateToken` (tokens from the service, as
 * local auth is off) and `:send` with an OData group filter — and models the hub: connections
 * join the groups of their token, and a message goes once to each connection the filter selects.
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { generate } from 'selfsigned';
import { WebPubSubPublisher } from '../../shared/adapters/azure/web-pubsub-publisher';
import { loadConfig } from '../../shared/config';
import { createServices, setServices, type Services } from '../../shared/container';
import type { BridgeCloudEvent } from '../../shared/domain/cloud-event';
import { endUserPrincipal, keyPrincipal } from '../../shared/services/principal';
import { AcceptingSender } from '../contract/event-log.contract';
import { invokeHandler } from '../helpers/invoke-handler';
import { ManualClock, TEST_ADMIN_KEY } from '../helpers/test-services';

const TOKEN = 'fixed-entra-token';
const HUB = 'bridge';

interface Logged {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
  body: string;
}

interface Connection {
  token: string;
  groups: Set<string>;
  received: unknown[];
}

class FakeWebPubSub {
  readonly requests: Logged[] = [];
  readonly tokens = new Map<
    string,
    { userId?: string; groups: string[]; roles: string[]; minutes?: number }
  >();
  readonly connections: Connection[] = [];
  /** Statuses to answer :send with next (default 202). */
  sendAnswers: number[] = [];
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

  /** A client connecting with the token of an access URL. */
  connect(url: string): Connection {
    const token = new URL(url).searchParams.get('access_token') ?? '';
    const issued = this.tokens.get(token);
    if (!issued) throw new Error('unknown token');
    const connection = { token, groups: new Set(issued.groups), received: [] };
    this.connections.push(connection);
    return connection;
  }

  private handle(
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
    body: string,
  ) {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
      body,
    });
    const send = (status: number, payload?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    if (!url.searchParams.get('api-version'))
      return send(400, { code: 'BadRequest', message: 'api-version' });
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return send(401, { code: 'Unauthorized', message: 'no token' });
    if (req.method === 'POST' && url.pathname === `/api/hubs/${HUB}/:generateToken`) {
      const token = `tok-${this.tokens.size + 1}`;
      this.tokens.set(token, {
        ...(url.searchParams.get('userId') ? { userId: url.searchParams.get('userId') as string } : {}),
        groups: url.searchParams.getAll('group'),
        roles: url.searchParams.getAll('role'),
        ...(url.searchParams.get('minutesToExpire')
          ? { minutes: Number(url.searchParams.get('minutesToExpire')) }
          : {}),
      });
      return send(200, { token });
    }
    if (req.method === 'POST' && url.pathname === `/api/hubs/${HUB}/:send`) {
      const answer = this.sendAnswers.shift() ?? 202;
      if (answer >= 400) return send(answer, { code: 'ServerError', message: 'injected' });
      let selects: (groups: Set<string>) => boolean;
      try {
        selects = groupFilter(url.searchParams.get('filter'));
      } catch (error) {
        return send(400, { code: 'InvalidFilter', message: String(error) });
      }
      const message = JSON.parse(body) as unknown;
      for (const connection of this.connections)
        if (selects(connection.groups)) connection.received.push(message);
      return send(202);
    }
    return send(404, { code: 'NotFound', message: url.pathname });
  }
}

/** The OData filters the adapter sends: `'a' in groups or 'b' in groups` ('' escapes a quote). */
function groupFilter(filter: string | null): (groups: Set<string>) => boolean {
  if (filter === null) return () => true;
  const wanted = filter.split(' or ').map((part) => {
    const m = /^'((?:[^']|'')*)' in groups$/.exec(part.trim());
    if (!m) throw new Error(`unsupported filter: ${filter}`);
    return (m[1] as string).replace(/''/g, "'");
  });
  return (groups) => wanted.some((g) => groups.has(g));
}

class StubCredential implements TokenCredential {
  readonly scopes: string[][] = [];
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    this.scopes.push([scopes].flat());
    return { token: TOKEN, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

const PORTAL = keyPrincipal('key-portal', 'user', 'user portal');

describe('realtime push through Web PubSub (fake REST API over HTTPS)', () => {
  const wps = new FakeWebPubSub();
  let ca: string;
  let services: Services;
  let dataDir: string;
  let credential: StubCredential;

  beforeAll(async () => {
    ca = await wps.start();
  });
  afterAll(async () => {
    await wps.stop();
  });
  beforeEach(() => {
    wps.requests.length = 0;
    wps.connections.length = 0;
    wps.tokens.clear();
    credential = new StubCredential();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-wps-'));
    const clock = new ManualClock();
    const config = loadConfig({
      BRIDGE_ADMIN_KEY: TEST_ADMIN_KEY,
      BRIDGE_DATA_DIR: dataDir,
      BRIDGE_EVENTS_FAST_PATH: 'false',
      BRIDGE_REALTIME: 'webpubsub',
      WEBPUBSUB_ENDPOINT: wps.url,
      BRIDGE_WEBPUBSUB_HUB: HUB,
    });
    const realtime = new WebPubSubPublisher({
      endpoint: wps.url,
      hub: HUB,
      credential,
      clock,
      clientOptions: { tlsOptions: { ca }, retryOptions: { maxRetries: 0 } },
    });
    services = createServices(config, { clock, bus: new AcceptingSender(), realtime });
    setServices(services);
  });
  afterEach(async () => {
    setServices(undefined);
    await services.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const publish = (type: string, subject: string, id: string) =>
    services.publisher.publish({ type, data: { id }, subject, id }, PORTAL);

  it('negotiate: a service-issued token for the asked groups, no roles, the caller as user, the cursor now', async () => {
    await publish('note', 'ann', 'before');
    const negotiated = await services.realtime!.negotiate(PORTAL, { types: ['user_update', 'note', 'note'] });
    expect(negotiated.groups).toEqual(['type.user_update', 'type.note']);
    expect(negotiated.url).toMatch(
      new RegExp(`^wss://127\\.0\\.0\\.1:\\d+/client/hubs/${HUB}\\?access_token=tok-1$`),
    );
    expect(Date.parse(negotiated.expiresAt)).toBeGreaterThan(0);
    expect(wps.tokens.get('tok-1')).toEqual({
      userId: 'key-portal',
      groups: ['type.user_update', 'type.note'],
      roles: [],
      minutes: 60,
    });
    expect(credential.scopes[0]).toEqual(['https://webpubsub.azure.com/.default']);
    // The cursor is the log's position now: nothing committed before it is replayed after it.
    expect((await services.events.replay({ after: negotiated.cursor, limit: 10 })).events).toEqual([]);
    expect((await services.realtime!.negotiate(PORTAL, { subject: 'ann' })).groups).toEqual(['subject.ann']);
    expect((await services.realtime!.negotiate(PORTAL, {})).groups).toEqual(['all']);
  });

  it('each event reaches every connection of its groups once, through the realtime-publish function', async () => {
    const { realtimePublish } = await import('../../functions/realtime-publish');
    const byType = wps.connect((await services.realtime!.negotiate(PORTAL, { types: ['note'] })).url);
    const bySubject = wps.connect((await services.realtime!.negotiate(PORTAL, { subject: "o'neil" })).url);
    const everything = wps.connect((await services.realtime!.negotiate(PORTAL, {})).url);
    const other = wps.connect((await services.realtime!.negotiate(PORTAL, { types: ['other'] })).url);
    await publish('note', "o'neil", 'n1');
    await publish('memo', 'bob', 'm1');
    const events = (await services.events.replay({ limit: 10 })).events;
    const context = new (await import('@azure/functions')).InvocationContext({
      functionName: 'realtime-publish',
    });
    for (const event of events) await realtimePublish(event, context);
    const ids = (c: { received: unknown[] }) => c.received.map((m) => (m as BridgeCloudEvent).id);
    expect(ids(byType)).toEqual(['pub:key-portal:n1']);
    expect(ids(bySubject)).toEqual(['pub:key-portal:n1']);
    expect(ids(everything)).toEqual(['pub:key-portal:n1', 'pub:key-portal:m1']);
    expect(ids(other)).toEqual([]);
    // The message is the CloudEvent itself, as on the stream and in webhooks.
    expect(everything.received[0]).toEqual(events[0]);
    const sends = wps.requests.filter((r) => r.path.endsWith('/:send'));
    expect(sends[0]?.query.get('filter')).toBe(
      "'all' in groups or 'type.note' in groups or 'subject.o''neil' in groups or 'user.o''neil' in groups",
    );
  });

  it('an end user gets only their own user group: events about them, never another subject', async () => {
    const ann = endUserPrincipal('ann');
    const negotiated = await services.realtime!.negotiate(ann, { types: ['note'] });
    expect(negotiated.groups).toEqual(['user.ann']);
    expect(wps.tokens.get('tok-1')).toMatchObject({ userId: 'user:ann', groups: ['user.ann'], roles: [] });
    expect((await services.realtime!.negotiate(ann, { subject: 'ann' })).groups).toEqual(['user.ann']);
    await expect(services.realtime!.negotiate(ann, { subject: 'bob' })).rejects.toMatchObject({
      kind: 'forbidden',
    });
    const connection = wps.connect(negotiated.url);
    await publish('note', 'ann', 'about-ann');
    await publish('note', 'bob', 'about-bob');
    for (const event of (await services.events.replay({ limit: 10 })).events) {
      await services.realtime!.publish(event);
    }
    // A state entry whose key happens to be "ann" is not about user ann: not in her group.
    await services.realtime!.publish({
      specversion: '1.0',
      id: 'state:ann:1',
      source: '/bridge/state/ann',
      type: 'state_change',
      subject: 'ann',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: {},
    } as unknown as BridgeCloudEvent);
    expect(connection.received.map((m) => (m as BridgeCloudEvent).id)).toEqual(['pub:key-portal:about-ann']);
  });

  it('a client that reconnects replays from its cursor over HTTP: pushes it missed are not lost', async () => {
    const first = await services.realtime!.negotiate(PORTAL, {});
    const connection = wps.connect(first.url);
    for (const id of ['a', 'b', 'c']) await publish('note', 'ann', id);
    const events = (await services.events.replay({ after: first.cursor, limit: 10 })).events;
    // Only the first push arrives (the connection dropped, or a push failed for good).
    await services.realtime!.publish(events[0]!);
    // Reconnecting: negotiate again, then replay from the cursor held (here the first one) and
    // dedupe by event id against what was pushed.
    const again = await services.realtime!.negotiate(PORTAL, {});
    wps.connect(again.url);
    const replayed = await services.events.replay({ after: first.cursor, limit: 100 });
    const seen = new Map<string, unknown>();
    for (const m of connection.received) seen.set((m as BridgeCloudEvent).id, m);
    for (const e of replayed.events) seen.set(e.id, e);
    expect([...seen.keys()].sort()).toEqual(events.map((e) => e.id).sort());
    expect((await services.events.replay({ after: replayed.next, limit: 10 })).events).toEqual([]);
  });

  it('a push the service refuses fails the invocation, so the bus delivers it again', async () => {
    const { realtimePublish } = await import('../../functions/realtime-publish');
    await publish('note', 'ann', 'x');
    const [event] = (await services.events.replay({ limit: 1 })).events;
    wps.sendAnswers.push(500);
    const context = new (await import('@azure/functions')).InvocationContext({
      functionName: 'realtime-publish',
    });
    await expect(realtimePublish(event, context)).rejects.toThrow();
    await expect(realtimePublish(event, context)).resolves.toBeUndefined();
  });

  it('POST /api/realtime/negotiate: validated, keyed, and answers the negotiated access', async () => {
    const { realtimeNegotiate } = await import('../../functions/realtime-negotiate');
    const ok = await invokeHandler(realtimeNegotiate, {
      method: 'POST',
      key: TEST_ADMIN_KEY,
      body: { types: ['note'] },
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.raw)).toEqual(
      expect.objectContaining({
        groups: ['type.note'],
        url: expect.stringMatching(/^wss:/),
        cursor: expect.any(String),
      }),
    );
    expect((await invokeHandler(realtimeNegotiate, { method: 'POST', body: {} })).status).toBe(401);
    const empty = await invokeHandler(realtimeNegotiate, { method: 'POST', key: TEST_ADMIN_KEY });
    expect(JSON.parse(empty.raw).groups).toEqual(['all']);
    for (const body of [{ types: [] }, { types: ['bad type'] }, { extra: 1 }, { subject: '' }]) {
      expect(
        (await invokeHandler(realtimeNegotiate, { method: 'POST', key: TEST_ADMIN_KEY, body })).status,
      ).toBe(400);
    }
  });
});

describe('realtime push off (the default)', () => {
  it('negotiate answers 404 and realtime-publish completes messages without pushing', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-wps-off-'));
    const services = createServices(
      loadConfig({
        BRIDGE_ADMIN_KEY: TEST_ADMIN_KEY,
        BRIDGE_DATA_DIR: dataDir,
        BRIDGE_EVENTS_FAST_PATH: 'false',
      }),
      { bus: new AcceptingSender() },
    );
    setServices(services);
    try {
      expect(services.realtime).toBeUndefined();
      const { realtimeNegotiate } = await import('../../functions/realtime-negotiate');
      const res = await invokeHandler(realtimeNegotiate, { method: 'POST', key: TEST_ADMIN_KEY });
      expect(res.status).toBe(404);
      expect(JSON.parse(res.raw).type).toBe('urn:portal-bridge:problem:realtime-off');
      const { realtimePublish } = await import('../../functions/realtime-publish');
      const context = new (await import('@azure/functions')).InvocationContext({
        functionName: 'realtime-publish',
      });
      await expect(realtimePublish({ id: 'x', type: 'note' }, context)).resolves.toBeUndefined();
    } finally {
      setServices(undefined);
      await services.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
