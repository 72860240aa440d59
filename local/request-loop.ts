import type * as http from 'node:http';
import { problem, type Problem } from '../shared/http/http-response';
import type { AccessLog } from './access-log';
import {
  BodyTimeoutError,
  BodyTooLargeError,
  discardBody,
  newInvocationContext,
  readBody,
  toFunctionsRequest,
  writeFunctionsResponse,
} from './http-bridge';
import type { HttpRoute, RouteTable } from './route-table';

export interface RequestLoopOptions {
  routes: RouteTable;
  /** `/api`: the route prefix of host.json. */
  prefix: string;
  /** The largest body the transport admits for a route (its handler may enforce a lower one). */
  maxBodyBytes: (route: HttpRoute) => number;
  /** How long a client may take to send the whole body once its headers are in. */
  bodyTimeoutMs: number;
  accessLog: AccessLog;
  log: (level: string, message: string) => void;
}

/**
 * A Host header as RFC 9110 allows it: a registered name, an IPv4 address or a bracketed IPv6
 * address, with an optional port. Anything else cannot form the request URL handlers see.
 */
const HOST_HEADER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

function send(res: http.ServerResponse, p: Problem, extraHeaders: Record<string, string> = {}): number {
  const response = problem(p, extraHeaders);
  res.writeHead(response.status ?? 500, response.headers as Record<string, string>);
  res.end(response.body as string);
  return response.status ?? 500;
}

/** A problem answered on a connection that is then closed (the rest of the request is not wanted). */
function sendAndClose(req: http.IncomingMessage, res: http.ServerResponse, p: Problem): number {
  const status = send(res, p, { connection: 'close' });
  discardBody(req);
  return status;
}

/**
 * The local host's request loop: the Functions host's front end in miniature. It answers what the
 * Functions host answers before a function runs — bad request lines, unknown routes (404), wrong
 * methods (405), bodies over the limit (413, from the declared length before any byte of the body
 * is read), bodies too slow to arrive (408) — and hands every other request to its handler.
 */
export function createRequestListener(options: RequestLoopOptions): http.RequestListener {
  const { routes, prefix, accessLog, log } = options;
  return async (req, res) => {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    let status = 500;
    try {
      const host = req.headers.host ?? 'localhost';
      let url: URL;
      try {
        if (!HOST_HEADER.test(host)) throw new Error('bad host');
        url = new URL(req.url ?? '/', `http://${host}`);
      } catch {
        status = sendAndClose(req, res, {
          status: 400,
          type: 'bad-request',
          title: 'Bad request',
          detail: 'The Host header or the request target is malformed.',
        });
        return;
      }
      const underPrefix = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
      let match;
      try {
        match = underPrefix
          ? routes.match(method, url.pathname.slice(prefix.length))
          : ({ kind: 'not-found' } as const);
      } catch {
        status = sendAndClose(req, res, {
          status: 400,
          type: 'bad-path',
          title: 'Bad request',
          detail: 'The path is not validly percent-encoded.',
        });
        return;
      }
      if (match.kind === 'not-found') {
        status = sendAndClose(req, res, {
          status: 404,
          type: 'not-found',
          title: 'Not found',
          detail: `No route for ${method} ${url.pathname}.`,
        });
        return;
      }
      if (match.kind === 'method-not-allowed') {
        req.resume();
        status = send(
          res,
          {
            status: 405,
            type: 'method-not-allowed',
            title: 'Method not allowed',
            detail: `${url.pathname} allows ${match.allowed.join(', ')}.`,
          },
          { allow: match.allowed.join(', ') },
        );
        return;
      }
      const maxBodyBytes = options.maxBodyBytes(match.route);
      const tooLarge: Problem = {
        status: 413,
        type: 'payload-too-large',
        title: 'Payload too large',
        detail: `The request body exceeds the limit of ${maxBodyBytes} bytes.`,
        maxBytes: maxBodyBytes,
      };
      // Answered from the header, before the body arrives.
      const declared = Number(req.headers['content-length'] ?? '0');
      if (declared > maxBodyBytes) {
        status = sendAndClose(req, res, tooLarge);
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(req, maxBodyBytes, options.bodyTimeoutMs);
      } catch (error) {
        if (error instanceof BodyTooLargeError) status = sendAndClose(req, res, tooLarge);
        else if (error instanceof BodyTimeoutError)
          status = sendAndClose(req, res, {
            status: 408,
            type: 'request-timeout',
            title: 'Request timeout',
            detail: `The request body did not arrive within ${options.bodyTimeoutMs} ms.`,
          });
        else throw error;
        return;
      }
      const request = toFunctionsRequest(req, url, match.params, body);
      const context = newInvocationContext(match.route, log);
      const result = await match.route.handler(request, context);
      status = await writeFunctionsResponse(res, result as Parameters<typeof writeFunctionsResponse>[1]);
    } catch (error) {
      // The request itself is fine: this is the host's own fault, logged without the caller's data.
      log('error', `${method} ${req.url}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent)
        status = send(res, {
          status: 500,
          type: 'internal',
          title: 'Internal error',
          detail: 'The local host failed to handle the request.',
        });
      else res.destroy();
    } finally {
      accessLog.request(method, req.url ?? '', status, performance.now() - started);
    }
  };
}
