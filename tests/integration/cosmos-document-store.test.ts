/**
 * CosmosDocumentStore against real Cosmos DB protocol peers on loopback: the DocumentStore contract
 * against @vercel/cosmosdb-server (HTTPS), then what is specific to the adapter (item shape, error
 * mapping including 429/5xx/unreachable from a fake peer, identity, one client per store).
 *
 * cosmosdb-server lacks three Cosmos DB features the contract exercises; those contract tests are
 * skipped here, each naming the gap, and run against the embedded store (same contract):
 * - a change feed (its A-IM read returns every document without `_lsn`, then only 304s),
 * - atomic transactional batches (it applies operations one by one and never rolls back),
 * - TTL expiry (it keeps items past their `ttl`).
 */
import type { CosmosClient, Database } from '@azure/cosmos';
import { isCosmosItem } from '../../shared/adapters/cosmos-item';
import {
  CosmosDocumentStore,
  createCosmosClient,
  openCosmosDocumentStore,
} from '../../shared/adapters/azure/cosmos-document-store';
import type { BatchOperation, StoreErrorCode } from '../../shared/ports/document-store';
import {
  describeDocumentStoreContract,
  expectStoreError,
  ManualClock,
} from '../contract/document-store.contract';
import {
  closedPort,
  EMULATOR_KEY,
  startCosmosServer,
  startFakeCosmosPeer,
  type CosmosTestServer,
  type FakeReply,
} from '../helpers/cosmos-server';

const NO_ATOMIC_BATCH =
  'cosmosdb-server applies batch operations one by one and never rolls back the earlier ones; ' +
  'codes and indexes are checked by the adapter tests below, atomicity by the embedded suite';
const NO_TTL_EXPIRY =
  'cosmosdb-server never expires items by `ttl`, so a conditional write still finds the expired ' +
  'version (Cosmos DB has deleted it); covered by the embedded suite';
const NO_CHANGE_FEED =
  'cosmosdb-server has no change feed: its A-IM read returns every document, without _lsn, then only 304s; ' +
  'covered by the embedded suite';

/** Contract tests this server cannot pass, by title, with the missing server feature. */
const SERVER_GAPS: Record<string, string> = {
  'a failing operation in the middle applies nothing and reports its index': NO_ATOMIC_BATCH,
  'reports each kind of failing operation with its code and index': NO_ATOMIC_BATCH,
  'a write over an expired document behaves as if it did not exist': NO_TTL_EXPIRY,
  'orderBy descending reverses the whole order, ties included, and pages the same':
    'cosmosdb-server serves an ORDER BY only from a composite index in exactly its directions; Cosmos DB ' +
    'also serves the reverse of all of them (so the bridge declares ascending ones only); covered by the embedded suite',
};
/** The contract's own reason for tests skipped with `changeFeed: false`, replaced by the real one. */
const CONTRACT_FEED_REASON = '(skipped: the store has no change feed)';

/**
 * Defines the contract suite with the tests in `gaps` declared skipped (title + reason) and the
 * change-feed skips re-labelled with the server's gap. The contract calls the global `it` while its
 * describe blocks are being defined, so `it` is swapped for exactly that synchronous call. Every
 * entry of `gaps` must match a contract test, so a renamed test cannot silently start running.
 */
function defineWithServerGaps(gaps: Record<string, string>, define: () => void): void {
  const scope = globalThis as unknown as { it: jest.It };
  const original = scope.it;
  const matched = new Set<string>();
  const skip = (title: string, fn?: jest.ProvidesCallback, timeout?: number) =>
    original.skip(
      title.endsWith(CONTRACT_FEED_REASON)
        ? `${title.slice(0, -CONTRACT_FEED_REASON.length)}(skipped: ${NO_CHANGE_FEED})`
        : title,
      fn,
      timeout,
    );
  const wrapped = Object.assign(
    (title: string, fn?: jest.ProvidesCallback, timeout?: number) => {
      const reason = gaps[title];
      if (reason === undefined) return original(title, fn, timeout);
      matched.add(title);
      return original.skip(`${title} (skipped: ${reason})`, fn, timeout);
    },
    original,
    { skip },
  );
  scope.it = wrapped as unknown as jest.It;
  try {
    define();
  } finally {
    scope.it = original;
  }
  const unmatched = Object.keys(gaps).filter((title) => !matched.has(title));
  if (unmatched.length > 0) throw new Error(`server gaps name no contract test: ${unmatched.join('; ')}`);
}

let server: CosmosTestServer;
let client: CosmosClient;
let databases = 0;

beforeAll(async () => {
  server = await startCosmosServer();
  client = server.createClient();
});
afterAll(async () => {
  client?.dispose();
  await server?.close();
});

/** A fresh database with the contract's containers; others are created on first use. */
async function freshDatabase(prefix: string): Promise<Database> {
  return server.createDatabase(client, `${prefix}-${databases++}`, ['things', 'others', 'empty']);
}

defineWithServerGaps(SERVER_GAPS, () =>
  describeDocumentStoreContract(
    'cosmos (cosmosdb-server)',
    async (clock) => {
      const database = await freshDatabase('contract');
      // The model-based property test writes to a new container per run (prop0, prop1, …).
      const store = new CosmosDocumentStore({ database, clock, createMissingContainers: true });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await database.delete();
        },
      };
    },
    // The adapter follows the injected clock for `ts` and for hiding expired items (`expiresAtMs`).
    { changeFeed: false, ttl: true },
  ),
);

describe('CosmosDocumentStore against cosmosdb-server', () => {
  let database: Database;
  let clock: ManualClock;
  let store: CosmosDocumentStore;
  const C = 'things';

  beforeEach(async () => {
    database = await freshDatabase('adapter');
    clock = new ManualClock();
    store = new CosmosDocumentStore({ database, clock });
  });
  afterEach(async () => {
    await store.close();
    await database.delete();
  });

  const raw = async (pk: string, id: string) =>
    (await database.container(C).item(id, pk).read<Record<string, unknown>>()).resource;
  const ownFields = (item: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(item ?? {}).filter(([key]) => !key.startsWith('_')));

  it('stores exactly the bridge item shape {id, pk, type, body, ttl?, tsMs, expiresAtMs?}', async () => {
    const forever = await store.upsert(C, 'p1', { id: 'a', type: 'user', body: { name: 'Zoë' } });
    const expiring = await store.create(C, 'p1', { id: 'b', type: 'state', body: [1] }, { ttlSeconds: 30 });
    const now = clock.now();
    expect(ownFields(await raw('p1', 'a'))).toEqual({
      id: 'a',
      pk: 'p1',
      type: 'user',
      body: { name: 'Zoë' },
      tsMs: now,
    });
    expect(ownFields(await raw('p1', 'b'))).toEqual({
      id: 'b',
      pk: 'p1',
      type: 'state',
      body: [1],
      ttl: 30,
      tsMs: now,
      expiresAtMs: now + 30_000,
    });
    expect(isCosmosItem(await raw('p1', 'a'))).toBe(true);
    // The etag is Cosmos's own _etag.
    expect((await raw('p1', 'a'))?._etag).toBe(forever.etag);
    expect((await raw('p1', 'b'))?._etag).toBe(expiring.etag);
  });

  it('hides an item past expiresAtMs before Cosmos deletes it, and a create may take its place', async () => {
    await store.upsert(C, 'p1', { id: 'a', type: 't', body: { n: 1 } }, { ttlSeconds: 5 });
    await expectStoreError(store.create(C, 'p1', { id: 'a', type: 't', body: { n: 2 } }), 'conflict');
    clock.advance(5_000);
    expect(await raw('p1', 'a')).toBeDefined(); // still stored
    expect(await store.read(C, 'p1', 'a')).toBeUndefined();
    expect(await store.count(C, {})).toBe(0);
    const created = await store.create(C, 'p1', { id: 'a', type: 't', body: { n: 3 } });
    expect(created.expiresAt).toBeUndefined();
    expect(await store.read(C, 'p1', 'a')).toEqual(created);
    expect(ownFields(await raw('p1', 'a'))).not.toHaveProperty('ttl');
  });

  it('maps 404, 409 and 412 from single-document calls', async () => {
    const v1 = await store.create(C, 'p1', { id: 'a', type: 't', body: { n: 1 } });
    await store.upsert(C, 'p1', { id: 'a', type: 't', body: { n: 2 } });
    await expectStoreError(store.create(C, 'p1', { id: 'a', type: 't', body: {} }), 'conflict');
    await expectStoreError(
      store.upsert(C, 'p1', { id: 'a', type: 't', body: {} }, { ifMatch: v1.etag }),
      'precondition-failed',
    );
    await expectStoreError(store.delete(C, 'p1', 'a', { ifMatch: v1.etag }), 'precondition-failed');
    await expectStoreError(store.delete(C, 'p1', 'missing'), 'not-found');
    // Cosmos answers 404 to a conditional replace of a missing item: for upsert that is a failed precondition.
    await expectStoreError(
      store.upsert(C, 'p1', { id: 'missing', type: 't', body: {} }, { ifMatch: v1.etag }),
      'precondition-failed',
    );
    expect(await raw('p1', 'missing')).toBeUndefined();
  });

  it('reports the failing batch operation by its status (not 424) with its code and index', async () => {
    const current = await store.upsert(C, 'p1', { id: 'x', type: 't', body: { n: 1 } });
    const latest = await store.upsert(C, 'p1', { id: 'x', type: 't', body: { n: 2 } });
    const cases: Array<[BatchOperation, StoreErrorCode]> = [
      [{ op: 'replace', id: 'missing', type: 't', body: {} }, 'not-found'],
      [{ op: 'replace', id: 'x', type: 't', body: {}, ifMatch: current.etag }, 'precondition-failed'],
      [{ op: 'upsert', id: 'x', type: 't', body: {}, ifMatch: current.etag }, 'precondition-failed'],
      [{ op: 'upsert', id: 'missing', type: 't', body: {}, ifMatch: current.etag }, 'precondition-failed'],
      [{ op: 'delete', id: 'missing' }, 'not-found'],
      [{ op: 'delete', id: 'x', ifMatch: current.etag }, 'precondition-failed'],
      [{ op: 'create', id: 'x', type: 't', body: {} }, 'conflict'],
    ];
    for (const [failing, code] of cases) {
      const error = await expectStoreError(
        store.batch(C, 'p1', [{ op: 'upsert', id: `first-${code}`, type: 't', body: {} }, failing, failing]),
        code,
      );
      expect(error.operationIndex).toBe(1);
    }
    // The conditional ops really reached Cosmos: with the current etag they apply.
    const [replaced] = await store.batch(C, 'p1', [
      { op: 'replace', id: 'x', type: 't', body: { n: 3 }, ifMatch: latest.etag },
    ]);
    await store.batch(C, 'p1', [{ op: 'delete', id: 'x', ifMatch: replaced?.etag }]);
    expect(await raw('p1', 'x')).toBeUndefined();
  });

  it('a pk filter keeps a query inside that partition', async () => {
    await store.upsert(C, 'p1', { id: 'a', type: 't', body: { n: 1 } });
    await store.upsert(C, 'p2', { id: 'a', type: 't', body: { n: 2 } });
    const before = server.requests.length;
    const page = await store.query(C, { pk: 'p2' });
    expect(page.items.map((doc) => doc.body)).toEqual([{ n: 2 }]);
    const queries = server.requests
      .slice(before)
      .filter((r) => r.headers['x-ms-documentdb-isquery'] === 'true');
    expect(queries.length).toBeGreaterThan(0);
    for (const request of queries) expect(request.headers['x-ms-documentdb-partitionkey']).toBe('["p2"]');
  });

  it('change feed: reads through the SDK iterator, filters types, hides expired items, wraps the token', async () => {
    // cosmosdb-server's "feed" is every document and then 304s, so only this much can be checked here.
    await store.upsert(C, 'p1', { id: 'e1', type: 'event', body: {} });
    await store.upsert(C, 'p1', { id: 'u1', type: 'user', body: {} });
    await store.upsert(C, 'p2', { id: 'e2', type: 'event', body: {} }, { ttlSeconds: 1 });
    clock.advance(1_000);
    const page = await store.changeFeed(C, { types: ['event'] });
    expect(page.items.map((doc) => doc.id)).toEqual(['e1']);
    expect(page.continuation).toMatch(/^cf1\./);
    const next = await store.changeFeed(C, { continuation: page.continuation });
    expect(next.items).toEqual([]);
    expect(next.continuation).toBe(page.continuation);
    for (const maxItems of [0, -1, 1.5]) await expectStoreError(store.changeFeed(C, { maxItems }), 'invalid');
    await expectStoreError(store.changeFeed(C, { continuation: 'not a continuation' }), 'invalid');
  });

  it('ping reads the database; a missing database or a closed store is unavailable', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    const orphan = new CosmosDocumentStore({ client, databaseId: 'no-such-database' });
    await expectStoreError(orphan.ping(), 'unavailable');
    await orphan.close();
    await store.close();
    await store.close();
    await expectStoreError(store.ping(), 'unavailable');
    await expectStoreError(store.read(C, 'p1', 'a'), 'unavailable');
    await expectStoreError(store.upsert(C, 'p1', { id: 'a', type: 't', body: {} }), 'unavailable');
  });
});

describe('CosmosDocumentStore client lifecycle', () => {
  it('uses one client per store: account metadata and container definition are fetched once', async () => {
    const store = openCosmosDocumentStore({
      endpoint: server.endpoint,
      key: server.key,
      agent: server.agent,
      databaseId: `lifecycle-${databases++}`,
      createMissingContainers: true,
    });
    const own = store.client;
    const before = server.requests.length;
    for (let i = 0; i < 12; i++) {
      await store.create('things', `p${i % 3}`, { id: `d${i}`, type: 't', body: { i } });
      await store.upsert('things', `p${i % 3}`, { id: `d${i}`, type: 't', body: { i: -i } });
      await store.read('things', `p${i % 3}`, `d${i}`);
    }
    await store.batch('things', 'p0', [{ op: 'create', id: 'b', type: 't', body: {} }]);
    expect(await store.count('things', {})).toBe(13);
    const seen = server.requests.slice(before);
    const gets = (path: string) => seen.filter((r) => r.method === 'GET' && r.path === path).length;
    expect(gets('/')).toBe(1);
    expect(gets(`/dbs/${store.database.id}/colls/things`)).toBeLessThanOrEqual(2);
    expect(store.client).toBe(own);
    // The store owns this client, so close() disposes it, once.
    const dispose = jest.spyOn(own, 'dispose');
    await store.close();
    await store.close();
    expect(dispose).toHaveBeenCalledTimes(1);
    await client.database(store.database.id).delete();
  });

  it('never disposes a client it was given', async () => {
    const shared = server.createClient();
    const dispose = jest.spyOn(shared, 'dispose');
    const a = new CosmosDocumentStore({ client: shared, databaseId: 'x' });
    const b = new CosmosDocumentStore({ database: shared.database('y') });
    expect(a.client).toBe(shared);
    expect(b.client).toBe(shared);
    await a.close();
    await b.close();
    expect(dispose).not.toHaveBeenCalled();
    shared.dispose();
  });

  it('createCosmosClient signs with a key only when given one, otherwise with the identity', async () => {
    const getToken = jest.fn(async () => ({
      token: 'token-from-identity',
      expiresOnTimestamp: Date.now() + 3_600_000,
    }));
    const withIdentity = createCosmosClient({
      endpoint: server.endpoint,
      credential: { getToken },
      agent: server.agent,
    });
    const withKey = createCosmosClient({ endpoint: server.endpoint, key: EMULATOR_KEY, agent: server.agent });
    const authorization = async (signer: CosmosClient) => {
      const before = server.requests.length;
      await new CosmosDocumentStore({ client: signer, databaseId: 'no-such-database' }).read('c', 'p', 'a');
      return server.requests.slice(before).map((r) => decodeURIComponent(String(r.headers.authorization)));
    };
    const aad = await authorization(withIdentity);
    const master = await authorization(withKey);
    expect(getToken).toHaveBeenCalled();
    expect(aad.length).toBeGreaterThan(0);
    for (const header of aad) expect(header).toBe('type=aad&ver=1.0&sig=token-from-identity');
    for (const header of master) expect(header).toMatch(/^type=master&ver=1\.0&sig=/);
    withIdentity.dispose();
    withKey.dispose();
    // Without a key the identity is DefaultAzureCredential (it asks for no token until a request needs one).
    createCosmosClient({ endpoint: server.endpoint }).dispose();
    expect(() =>
      createCosmosClient({ endpoint: server.endpoint, key: 'k', credential: { getToken } }),
    ).toThrow(TypeError);
    expect(() => createCosmosClient({ endpoint: '' })).toThrow(TypeError);
  });
});

describe('CosmosDocumentStore error mapping against a fake Cosmos peer', () => {
  /** A store whose client talks to `reply`; the SDK retries `retries` times before giving up. */
  async function storeAgainst(reply: (path: string) => FakeReply, retries = 0) {
    const peer = await startFakeCosmosPeer((request) => reply(request.path));
    const peerClient = createCosmosClient({
      endpoint: peer.endpoint,
      key: EMULATOR_KEY,
      connectionPolicy: {
        enableEndpointDiscovery: false,
        retryOptions: {
          maxRetryAttemptCount: retries,
          fixedRetryIntervalInMilliseconds: 0,
          maxWaitTimeInSeconds: 5,
        },
      },
    });
    const store = new CosmosDocumentStore({ client: peerClient, databaseId: 'db', ownsClient: true });
    return { peer, store, close: async () => (await store.close(), await peer.close()) };
  }

  const everyCall = (store: CosmosDocumentStore) =>
    [
      ['read', () => store.read('things', 'p', 'a')],
      ['create', () => store.create('things', 'p', { id: 'a', type: 't', body: {} })],
      ['upsert', () => store.upsert('things', 'p', { id: 'a', type: 't', body: {} })],
      [
        'upsert ifMatch',
        () => store.upsert('things', 'p', { id: 'a', type: 't', body: {} }, { ifMatch: '"e"' }),
      ],
      ['delete', () => store.delete('things', 'p', 'a')],
      ['query', () => store.query('things', { type: 't' })],
      ['count', () => store.count('things', {})],
      ['changeFeed', () => store.changeFeed('things', {})],
      ['ping', () => store.ping()],
    ] as const;

  it('429 with x-ms-retry-after-ms is throttled with retryAfterMs, on every call', async () => {
    const throttle: FakeReply = {
      status: 429,
      headers: { 'x-ms-retry-after-ms': '1234', 'x-ms-substatus': '3200' },
      body: { code: 'TooManyRequests', message: 'Message: {"Errors":["Request rate is large."]}' },
    };
    const { peer, store, close } = await storeAgainst(() => throttle);
    try {
      for (const [name, call] of everyCall(store)) {
        const error = await expectStoreError(call(), 'throttled');
        expect([name, error.retryAfterMs]).toEqual([name, 1234]);
      }
      // Items.batch wraps request failures in a plain Error, dropping status and headers: Cosmos's
      // 429 message still identifies it, without a retry-after.
      const error = await expectStoreError(
        store.batch('things', 'p', [{ op: 'create', id: 'a', type: 't', body: {} }]),
        'throttled',
      );
      expect(error.operationIndex).toBeUndefined();
      expect(peer.requests.length).toBeGreaterThanOrEqual(10);
    } finally {
      await close();
    }
  });

  it('the SDK retries a 429 after x-ms-retry-after-ms before the adapter reports it', async () => {
    const { peer, store, close } = await storeAgainst(
      () => ({
        status: 429,
        headers: { 'x-ms-retry-after-ms': '40' },
        body: { message: 'Request rate is large' },
      }),
      2,
    );
    try {
      const started = Date.now();
      await expectStoreError(store.read('things', 'p', 'a'), 'throttled');
      expect(peer.requests.filter((r) => r.path === '/dbs/db/colls/things/docs/a')).toHaveLength(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    } finally {
      await close();
    }
  });

  it.each([500, 503, 401, 403])('%i is unavailable', async (status) => {
    const { store, close } = await storeAgainst(() => ({
      status,
      body: { code: 'Oops', message: `status ${status}` },
    }));
    try {
      for (const [, call] of everyCall(store)) await expectStoreError(call(), 'unavailable');
      await expectStoreError(store.batch('things', 'p', [{ op: 'delete', id: 'a' }]), 'unavailable');
    } finally {
      await close();
    }
  });

  it('400 and 413 are invalid', async () => {
    for (const status of [400, 413]) {
      const { store, close } = await storeAgainst(() => ({ status, body: { message: 'bad' } }));
      try {
        await expectStoreError(store.upsert('things', 'p', { id: 'a', type: 't', body: {} }), 'invalid');
      } finally {
        await close();
      }
    }
  });

  it('an unreachable endpoint (ECONNREFUSED) is unavailable', async () => {
    const port = await closedPort();
    const store = openCosmosDocumentStore({
      endpoint: `http://127.0.0.1:${port}`,
      key: EMULATOR_KEY,
      databaseId: 'db',
      connectionPolicy: {
        enableEndpointDiscovery: false,
        retryOptions: {
          maxRetryAttemptCount: 0,
          fixedRetryIntervalInMilliseconds: 0,
          maxWaitTimeInSeconds: 1,
        },
      },
    });
    try {
      const error = await expectStoreError(store.read('things', 'p', 'a'), 'unavailable');
      expect(error.message).toMatch(/ECONNREFUSED/);
      await expectStoreError(store.batch('things', 'p', [{ op: 'delete', id: 'a' }]), 'unavailable');
    } finally {
      await store.close();
    }
  });
});
