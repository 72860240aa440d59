import { Readable } from 'node:stream';
import { HttpRequest, InvocationContext, type HttpHandler, type HttpResponseInit } from '@azure/functions';

/**
 * Calls a function handler the way the Functions host does, with @azure/functions' test-mode
 * HttpRequest and InvocationContext, and reads the answer back (string or streamed body).
 */
export interface HandlerRequest {
  method: string;
  url?: string;
  key?: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object or string goes as JSON (with its content type); a Buffer goes as raw bytes. */
  body?: unknown;
  /**
   * false: a streamed (web ReadableStream) body is cancelled unread, as a client that hangs up
   * after the headers (an event stream would otherwise be read until it ends).
   */
  readBody?: boolean;
}

export interface HandlerResponse {
  status: number;
  headers: Headers;
  bytes: Buffer;
  raw: string;
}

export async function invokeHandler(handler: HttpHandler, req: HandlerRequest): Promise<HandlerResponse> {
  const url = new URL(req.url ?? 'http://localhost/api/test');
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
  const isBytes = Buffer.isBuffer(req.body);
  const text =
    req.body === undefined || isBytes
      ? undefined
      : typeof req.body === 'string'
        ? req.body
        : JSON.stringify(req.body);
  const request = new HttpRequest({
    method: req.method,
    url: url.toString(),
    params: req.params ?? {},
    headers: {
      ...(req.key ? { 'x-api-key': req.key } : {}),
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
      ...req.headers,
    },
    ...(isBytes
      ? { body: { bytes: req.body as Buffer } }
      : text !== undefined
        ? { body: { string: text } }
        : {}),
  });
  const response = (await handler(
    request,
    new InvocationContext({ functionName: 'test' }),
  )) as HttpResponseInit;
  let bytes = Buffer.alloc(0);
  if (typeof response.body === 'string') bytes = Buffer.from(response.body);
  else if (response.body instanceof Uint8Array) bytes = Buffer.from(response.body);
  else if (response.body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
    bytes = Buffer.concat(chunks);
  } else if (response.body instanceof ReadableStream) {
    if (req.readBody === false) await response.body.cancel();
    else bytes = Buffer.from(await new Response(response.body).arrayBuffer());
  } else if (response.body !== undefined && response.body !== null) {
    throw new Error(`unexpected body type ${typeof response.body}`);
  }
  return {
    status: response.status ?? 200,
    headers: new Headers(response.headers as ConstructorParameters<typeof Headers>[0]),
    bytes,
    raw: bytes.toString('utf8'),
  };
}
