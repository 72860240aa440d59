/**
 * Cosmos DB protocol peers on loopback for the integration tests:
 *
 * - {@link startCosmosServer}: `@vercel/cosmosdb-server` (an in-process Cosmos DB for NoSQL
 *   implementation) over HTTPS with its self-signed certificate. Clients trust it through an
 *   `https.Agent({ rejectUnauthorized: false })`, never through NODE_TLS_REJECT_UNAUTHORIZED.
 *   It starts empty; {@link CosmosTestServer.createDatabase} makes a database and the bridge
 *   containers (partition key /pk).
 * - {@link startFakeCosmosPeer}: a plain HTTP server that answers every request itself, e.g. with
 *   a 429 and `x-ms-retry-after-ms`, for error paths the real server never takes.
 */
import { CosmosClient, type Database } from '@azure/cosmos';
import { createHttpsServer } from '@vercel/cosmosdb-server';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  BRIDGE_CONTAINER_DEFINITION,
  createCosmosClient,
  type CreateCosmosClientOptions,
} from '../../shared/adapters/azure/cosmos-document-store';

/** Any key works with cosmosdb-server; it does not check signatures. */
export const EMULATOR_KEY = 'Y29zbW9zZGItc2VydmVyIHRlc3Qga2V5';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface CosmosTestServer {
  /** https://127.0.0.1:<port> */
  endpoint: string;
  key: string;
  /** Trusts the server's self-signed certificate; keeps connections alive. */
  agent: https.Agent;
  /** Every request the server received, in arrival order. */
  requests: RecordedRequest[];
  /** A client for this server via the adapter's own factory (key auth, as for any emulator). */
  createClient(options?: Partial<CreateCosmosClientOptions>): CosmosClient;
  /** Creates a database and the given containers with the bridge container definition. */
  createDatabase(client: CosmosClient, id: string, containers?: readonly string[]): Promise<Database>;
  close(): Promise<void>;
}

export async function startCosmosServer(): Promise<CosmosTestServer> {
  const server = createHttpsServer({ keepAlive: true });
  const requests: RecordedRequest[] = [];
  server.on('request', (req: http.IncomingMessage) => {
    requests.push({
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0] ?? '',
      headers: req.headers,
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const endpoint = `https://127.0.0.1:${port}`;
  const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
  return {
    endpoint,
    key: EMULATOR_KEY,
    agent,
    requests,
    createClient: (options = {}) => createCosmosClient({ endpoint, key: EMULATOR_KEY, agent, ...options }),
    async createDatabase(client, id, containers = []) {
      const { database } = await client.databases.createIfNotExists({ id });
      for (const container of containers) {
        await database.containers.createIfNotExists({ id: container, ...BRIDGE_CONTAINER_DEFINITION });
      }
      return database;
    },
    async close() {
      agent.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export interface FakeCosmosPeer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** What the fake peer sends back for one request. */
export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A loopback HTTP peer that answers every request with `reply(request)`. */
export async function startFakeCosmosPeer(
  reply: (request: RecordedRequest) => FakeReply,
): Promise<FakeCosmosPeer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        headers: req.headers,
      };
      requests.push(request);
      const { status, headers = {}, body = {} } = reply(request);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
