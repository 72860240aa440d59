import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { HttpResponse, InvocationContext, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { LocalHttpRequest } from './local-http-request';
import type { HttpRoute } from './route-table';

export class BodyTooLargeError extends Error {}
export class BodyTimeoutError extends Error {}

/** After a refusal, up to this much more is read and discarded so the client can hear the answer. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
/** …and for at most this long; then the connection is cut. */
const DISCARD_LIMIT_MS = 5_000;

/**
 * Reads what is left of a refused request without keeping it, bounded in bytes and time, then
 * lets the connection go: a client still sending would otherwise see a reset instead of the answer.
 */
export function discardBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  req.removeAllListeners('data');
  let discarded = 0;
  const timer = setTimeout(() => req.destroy(), DISCARD_LIMIT_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT_BYTES) req.destroy();
  });
  req.once('close', () => clearTimeout(timer));
  req.once('end', () => clearTimeout(timer));
  req.on('error', () => undefined);
  req.resume();
}

/**
 * Reads a request body, refusing once it passes `maxBytes` (BodyTooLargeError) or when it has not
 * fully arrived within `timeoutMs` (BodyTimeoutError): a slow trickle cannot hold a connection.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.removeListener('data', onData);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    };
    const timer = setTimeout(() => settle(new BodyTimeoutError()), timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        settle(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle());
    req.once('error', (error) => settle(error));
    req.once('close', () => {
      if (!req.complete) settle(new BodyTimeoutError('the client closed the connection mid-body'));
    });
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

/** After a streamed body ends, how long a client that stopped reading has to take the rest. */
const STREAM_FLUSH_TIMEOUT_MS = 10_000;

/** A body the handler streams (a web ReadableStream or an async iterable), not a buffered value. */
function isStreamBody(body: unknown): body is ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> {
  if (typeof body !== 'object' || body === null || body instanceof Uint8Array) return false;
  return body instanceof ReadableStream || Symbol.asyncIterator in body;
}

/**
 * Streams a body the way the Functions host does with HTTP streams on: headers at once, then each
 * chunk written as it comes (no content-length, chunked), waiting for the socket to drain before
 * asking for the next one, so a slow client slows the producer instead of filling memory. A client
 * that goes away cancels the body (the producer cleans up).
 */
async function writeStreamedBody(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<number> {
  // A reader (not the stream's async iterator) so that a client going away cancels the body at
  // once, even while a read is waiting for the next chunk.
  const reader = body instanceof ReadableStream ? body.getReader() : undefined;
  const iterator = reader ? undefined : (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const next = (): Promise<IteratorResult<Uint8Array>> =>
    reader
      ? reader
          .read()
          .then((r) => (r.done ? { done: true, value: undefined } : { done: false, value: r.value }))
      : (iterator as AsyncIterator<Uint8Array>).next();
  let gone = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    gone = true;
    wake?.();
    void (reader ? reader.cancel() : iterator?.return?.())?.catch(() => undefined);
  };
  res.once('close', onClose);
  res.socket?.setNoDelay(true);
  res.writeHead(status, headers);
  res.flushHeaders();
  try {
    while (!gone) {
      const chunk = await next();
      if (chunk.done || gone) break;
      const accepted = res.write(chunk.value);
      // A chunked write waits for the end of the turn (node corks the socket until then); a stream's
      // frame should not wait for the rest of the turn's work, so it goes now.
      res.socket?.uncork();
      if (!accepted) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          res.once('drain', resolve);
        });
        wake = undefined;
      }
    }
  } finally {
    res.off('close', onClose);
    if (!gone) {
      res.end();
      // A client that stopped reading never takes the last bytes: do not keep its socket forever.
      if (!res.writableFinished) {
        const timer = setTimeout(() => res.destroy(), STREAM_FLUSH_TIMEOUT_MS);
        timer.unref();
        res.once('finish', () => clearTimeout(timer));
        res.once('close', () => clearTimeout(timer));
      }
    }
  }
  return status;
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
  if (isStreamBody(init.body)) return writeStreamedBody(res, status, headers, init.body);
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
