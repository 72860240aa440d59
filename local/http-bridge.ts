import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { HttpResponse, InvocationContext, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { LocalHttpRequest } from './local-http-request';
import type { HttpRoute } from './route-table';

export class BodyTooLargeError extends Error {}

/** Past the limit, up to this much more is read and discarded so the client can hear the 413. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body, refusing once it passes `maxBytes`. A refused body is drained (bounded)
 * before the 413 goes out: a client still sending would otherwise see a reset, not the answer.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = declared > maxBytes;
    const refuse = () => {
      req.removeAllListeners('data');
      let discarded = 0;
      req.on('data', (chunk: Buffer) => {
        discarded += chunk.length;
        if (discarded > DISCARD_LIMIT_BYTES) req.destroy();
      });
      req.once('end', () => reject(new BodyTooLargeError()));
      req.once('close', () => reject(new BodyTooLargeError()));
    };
    if (refused) return refuse();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes && !refused) {
        refused = true;
        chunks.length = 0;
        refuse();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export function toFunctionsRequest(
  req: IncomingMessage,
  url: URL,
  params: Record<string, string>,
  body: Buffer,
): HttpRequest {
  return new LocalHttpRequest((req.method ?? 'GET').toUpperCase(), url, req.headers, params, body);
}

export function newInvocationContext(
  route: HttpRoute,
  log: (level: string, message: string) => void,
): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: route.name,
    logHandler: (level, ...args) =>
      log(
        level,
        args
          .map((a) =>
            a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : JSON.stringify(a),
          )
          .join(' '),
      ),
  });
}

/** Writes a handler's result (HttpResponseInit or HttpResponse) to the node response. */
export async function writeFunctionsResponse(
  res: ServerResponse,
  result: HttpResponseInit | HttpResponse | void,
): Promise<number> {
  if (result instanceof HttpResponse) {
    const body = Buffer.from(await result.arrayBuffer());
    const headers: Record<string, string> = {};
    result.headers.forEach((value, name) => (headers[name] = value));
    res.writeHead(result.status, { ...headers, 'content-length': String(body.length) });
    res.end(body);
    return result.status;
  }
  const init = result ?? {};
  const status = init.status ?? 200;
  const headers: Record<string, string> = {};
  if (isPlainRecord(init.headers)) {
    // The bridge's own responses carry a plain object (shared/http/http-response.ts): no Headers needed.
    for (const name in init.headers) headers[name.toLowerCase()] = String(init.headers[name]);
  } else if (init.headers) {
    new Headers(init.headers as ConstructorParameters<typeof Headers>[0]).forEach(
      (value, name) => (headers[name] = value),
    );
  }
  let body: Buffer | undefined;
  if (init.jsonBody !== undefined) {
    body = Buffer.from(JSON.stringify(init.jsonBody));
    headers['content-type'] ??= 'application/json';
  } else if (typeof init.body === 'string') {
    body = Buffer.from(init.body);
  } else if (init.body instanceof Uint8Array) {
    body = Buffer.from(init.body);
  } else if (init.body !== undefined && init.body !== null) {
    body = Buffer.from(
      await new Response(init.body as ConstructorParameters<typeof Response>[0]).arrayBuffer(),
    );
  }
  if (body && status !== 204 && status !== 304) {
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    res.end(body);
  } else {
    res.writeHead(status, headers);
    res.end();
  }
  return status;
}

function isPlainRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
