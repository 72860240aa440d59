import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../shared/config';
import { disposeServices, getServices } from '../shared/container';
import { problem } from '../shared/http/http-response';
import { AccessLog } from './access-log';
import { loadRegistrations } from './function-registry';
import {
  BodyTooLargeError,
  newInvocationContext,
  readBody,
  toFunctionsRequest,
  writeFunctionsResponse,
} from './http-bridge';
import { applyLocalSettingsFile, ensureLocalAdminKey } from './local-settings';
import { RouteTable } from './route-table';
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
  extensions?: { http?: { routePrefix?: string }; serviceBus?: { maxConcurrentCalls?: number } };
}

/** The parts of host.json the local host honours, so both hosts behave alike. */
function readHostJson(root: string): { routePrefix: string; maxConcurrentCalls: number } {
  const file = path.join(root, 'host.json');
  const parsed = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as HostJson) : {};
  return {
    routePrefix: (parsed.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    maxConcurrentCalls: parsed.extensions?.serviceBus?.maxConcurrentCalls ?? 16,
  };
}

function send(
  res: http.ServerResponse,
  response: ReturnType<typeof problem>,
  extraHeaders: Record<string, string> = {},
): number {
  res.writeHead(response.status ?? 500, { ...(response.headers as Record<string, string>), ...extraHeaders });
  res.end(response.body as string);
  return response.status ?? 500;
}

/**
 * Serves the function files' HTTP routes under /<routePrefix> the way the Functions host does:
 * a node:http server in front of the very handlers registered with app.http(...).
 */
export async function startLocalHost(root: string, port: number, accessLog: AccessLog): Promise<LocalHost> {
  const services = getServices();
  // The transport admits the largest body any route accepts (file uploads); each handler enforces
  // its own limit (JSON routes: BRIDGE_MAX_BODY_BYTES, checked on content-length before reading).
  const maxBodyBytes = Math.max(services.config.http.maxBodyBytes, services.config.files.maxBytes);
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
    log,
  });

  const server = http.createServer(async (req, res) => {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    let status = 500;
    try {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
      const underPrefix = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
      let match;
      try {
        match = underPrefix
          ? routes.match(method, url.pathname.slice(prefix.length))
          : ({ kind: 'not-found' } as const);
      } catch {
        status = send(
          res,
          problem({
            status: 400,
            type: 'bad-path',
            title: 'Bad request',
            detail: 'The path is not validly percent-encoded.',
          }),
        );
        return;
      }
      if (match.kind === 'not-found') {
        req.resume();
        status = send(
          res,
          problem({
            status: 404,
            type: 'not-found',
            title: 'Not found',
            detail: `No route for ${method} ${url.pathname}.`,
          }),
        );
        return;
      }
      if (match.kind === 'method-not-allowed') {
        req.resume();
        status = send(
          res,
          problem({
            status: 405,
            type: 'method-not-allowed',
            title: 'Method not allowed',
            detail: `${url.pathname} allows ${match.allowed.join(', ')}.`,
          }),
          { allow: match.allowed.join(', ') },
        );
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(req, maxBodyBytes);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        status = send(
          res,
          problem({
            status: 413,
            type: 'payload-too-large',
            title: 'Payload too large',
            detail: `The request body exceeds the limit of ${maxBodyBytes} bytes.`,
          }),
          { connection: 'close' },
        );
        return;
      }
      const request = toFunctionsRequest(req, url, match.params, body);
      const context = newInvocationContext(match.route, log);
      const result = await match.route.handler(request, context);
      status = await writeFunctionsResponse(res, result as Parameters<typeof writeFunctionsResponse>[1]);
    } catch (error) {
      console.error(`[error] ${method} ${req.url}:`, error);
      if (!res.headersSent)
        status = send(
          res,
          problem({
            status: 500,
            type: 'internal',
            title: 'Internal error',
            detail: 'The local host failed to handle the request.',
          }),
        );
      else res.destroy();
    } finally {
      accessLog.request(method, req.url ?? '', status, performance.now() - started);
    }
  });
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

async function main(): Promise<void> {
  const root = findProjectRoot(__dirname);
  const env = process.env;
  const settingsFile = applyLocalSettingsFile(root, env);
  const dataDir = path.resolve(env.BRIDGE_DATA_DIR?.trim() || '.data');
  env.BRIDGE_DATA_DIR = dataDir;
  const adminKey = ensureLocalAdminKey(dataDir, env);
  // Locally, webhooks to this machine are the normal case (a portal on localhost).
  env.BRIDGE_WEBHOOK_ALLOW_PRIVATE ??= 'true';
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Portal Bridge cannot start. ${error.message}`);
      console.error('Every setting is documented in README.md and local.settings.example.json.');
      process.exit(1);
    }
    throw error;
  }
  const accessLog = new AccessLog(config.localHost.accessLog);
  const host = await startLocalHost(root, config.localHost.port, accessLog);

  console.log(`Portal Bridge local host listening on ${host.url}`);
  if (settingsFile) console.log(`  settings:  ${settingsFile} (environment variables take precedence)`);
  console.log(`  data:      ${dataDir}`);
  console.log(`  routes:    ${host.routes.all.map((r) => r.name).join(', ')}`);
  console.log(`  triggers:  ${host.triggers.join(', ') || 'none'}`);
  if (adminKey.source === 'setting')
    console.log('  admin key: BRIDGE_ADMIN_KEY (from the environment/settings)');
  else
    console.log(
      `  admin key: ${env.BRIDGE_ADMIN_KEY} (${adminKey.source === 'generated' ? 'generated into' : 'read from'} ${adminKey.file})`,
    );
  console.log(`  try:       curl -H "x-api-key: <admin key>" ${host.url}/metrics`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: stopping (in-flight requests finish first)`);
    await host.close();
    accessLog.flush();
    await disposeServices();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error('Portal Bridge local host failed to start:', error);
    process.exit(1);
  });
}
