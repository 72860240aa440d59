import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { getServices } from '../shared/container';
import { registeredRoute } from '../shared/http/route-registry';
import type { AccessLog } from './access-log';
import { loadRegistrations } from './function-registry';
import { createRequestListener } from './request-loop';
import { RouteTable, type HttpRoute } from './route-table';
import { startTriggers } from './trigger-host';

export interface LocalHost {
  url: string;
  port: number;
  routes: RouteTable;
  triggers: string[];
  close(): Promise<void>;
}

export function findProjectRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    serviceBus?: { maxConcurrentCalls?: unknown; maxMessageBatchSize?: unknown };
  };
}

/** The parts of host.json the local host honours, so both hosts behave alike. */
export function readHostJson(root: string): {
  routePrefix: string;
  maxConcurrentCalls: number;
  maxMessageBatchSize: number;
} {
  const file = path.join(root, 'host.json');
  const parsed = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as HostJson) : {};
  const serviceBus = parsed.extensions?.serviceBus;
  return {
    routePrefix: (parsed.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    maxConcurrentCalls: positive('maxConcurrentCalls', serviceBus?.maxConcurrentCalls, 16),
    // The Service Bus extension's default.
    maxMessageBatchSize: positive('maxMessageBatchSize', serviceBus?.maxMessageBatchSize, 1000),
  };
}

/** A host.json count: absent (the default), a positive integer, or the host does not start. */
function positive(name: string, value: unknown, byDefault: number): number {
  if (value === undefined) return byDefault;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new Error(
    `host.json extensions.serviceBus.${name} must be a positive integer, not ${JSON.stringify(value)}`,
  );
}

/**
 * Serves the function files' HTTP routes under /<routePrefix> the way the Functions host does:
 * a node:http server in front of the very handlers registered with app.http(...), plus the
 * triggers (change feed, bus, timers). The request loop itself is request-loop.ts.
 */
export async function startLocalHost(root: string, port: number, accessLog: AccessLog): Promise<LocalHost> {
  const services = getServices();
  const { headersTimeoutMs, bodyTimeoutMs } = services.config.localHost;
  // Each route's body limit, from its declaration in the route registry: JSON bodies
  // BRIDGE_MAX_BODY_BYTES, raw bodies their own limit or the file limit. A larger declared
  // content-length is refused from the header; the handler checks again (the Functions host's path).
  const { http: httpLimits, files } = services.config;
  const largest = Math.max(httpLimits.maxBodyBytes, files.maxBytes);
  const bodyLimit = (route: HttpRoute): number => {
    const declared = registeredRoute(route.name);
    if (!declared) return largest;
    if (declared.bodyKind === 'raw') return declared.rawBody?.maxBytes ?? largest;
    return httpLimits.maxBodyBytes;
  };
  const registrations = loadRegistrations(root);
  const routes = new RouteTable(registrations);
  const hostJson = readHostJson(root);
  const prefix = `/${hostJson.routePrefix}`;
  const log = (level: string, message: string) => {
    if (level === 'error' || level === 'warning' || level === 'critical')
      console.error(`[${level}] ${message}`);
    else if (level !== 'trace' && level !== 'debug') console.log(`[${level}] ${message}`);
  };
  const triggers = await startTriggers(registrations, services, process.env, {
    maxConcurrentCalls: hostJson.maxConcurrentCalls,
    maxMessageBatchSize: hostJson.maxMessageBatchSize,
    log,
  });

  const server = http.createServer(
    {
      // Slow clients: the headers must be in within headersTimeoutMs (408 and close); the body is
      // timed by the request loop; requestTimeout is the backstop for both. Node checks these
      // every connectionsCheckingInterval, so that is kept well below them.
      headersTimeout: headersTimeoutMs,
      requestTimeout: headersTimeoutMs + bodyTimeoutMs + 1_000,
      connectionsCheckingInterval: Math.min(1_000, Math.floor(headersTimeoutMs / 2)),
    },
    createRequestListener({
      routes,
      prefix,
      maxBodyBytes: bodyLimit,
      bodyTimeoutMs,
      accessLog,
      log,
    }),
  );
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${actualPort}${prefix}`,
    port: actualPort,
    routes,
    triggers: triggers.names,
    close: async () => {
      // Open event streams end first, each with its closing frame, so the server can close at once.
      await services.streams.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish before their connections are cut.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await triggers.stop();
    },
  };
}
