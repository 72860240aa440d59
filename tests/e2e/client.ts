/**
 * A thin fetch wrapper for the e2e tier: what a portal would send, and the parsed answer.
 *
 * Every exchange made through `call()` is also recorded and, when the test file ends, checked
 * against the OpenAPI document the bridge serves (GET /api/openapi.json): a request a route
 * accepted must be valid for the document, and each answer must match the response it documents.
 * So the e2e tier's requests and answers are the document's examples, and drift fails a test.
 */
import * as net from 'node:net';
import { OpenApiConformance, type Exchange, type OpenApiDoc } from '../helpers/openapi-conformance';

/** Response bodies are whatever the API sent; tests assert on their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJson = any;

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON body; undefined when the body is empty. */
  body: T;
  text: string;
}

export interface CallOptions {
  key?: string;
  /** Serialised as JSON (with content-type: application/json) unless `raw` is given. */
  json?: unknown;
  /** Sent as is, with content-type: application/json. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export async function call<T = AnyJson>(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key !== undefined) headers['x-api-key'] = options.key;
  let body: string | Buffer | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.json !== undefined) body = JSON.stringify(options.json);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const parsed = text === '' ? undefined : JSON.parse(text);
  record(baseUrl, {
    method,
    path,
    requestBody: options.raw !== undefined ? jsonOrUndefined(options.raw.toString()) : options.json,
    ...(body !== undefined && headers['content-type'] !== undefined
      ? { requestContentType: headers['content-type'] }
      : {}),
    status: response.status,
    responseContentType: response.headers.get('content-type'),
    responseBody: parsed,
  });
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

// ---------------------------------------------------------------------------------------------------
// Recorded exchanges, checked against the OpenAPI document at the end of each test file.

const recorded: Exchange[] = [];
let openApiDoc: Promise<OpenApiDoc | undefined> | undefined;

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The document, fetched from the first host that serves it (while it is still running). */
function fetchDocument(baseUrl: string): void {
  openApiDoc = (openApiDoc ?? Promise.resolve(undefined)).then(
    async (known) =>
      known ??
      fetch(`${baseUrl}/openapi.json`)
        .then(async (r) => (r.ok ? ((await r.json()) as OpenApiDoc) : undefined))
        .catch(() => undefined),
  );
}

function record(baseUrl: string, exchange: Exchange): void {
  if (recorded.length < 20_000) recorded.push(exchange);
  fetchDocument(baseUrl);
}

afterAll(async () => {
  if (recorded.length === 0) return;
  const doc = await openApiDoc;
  if (!doc) throw new Error('GET /api/openapi.json could not be read from any host these tests used.');
  const conformance = new OpenApiConformance(doc);
  const problems = recorded.flatMap((exchange) => conformance.check(exchange));
  expect([...new Set(problems)]).toEqual([]);
});

/** Bound to one host and one key: `api.post('/users/u1/sync', { data: {...} })`. */
export function client(baseUrl: string, key?: string) {
  const withKey = (options: CallOptions): CallOptions => ({ key, ...options });
  return {
    get: <T = AnyJson>(path: string, options: CallOptions = {}) =>
      call<T>(baseUrl, 'GET', path, withKey(options)),
    post: <T = AnyJson>(path: string, json?: unknown, options: CallOptions = {}) =>
      call<T>(baseUrl, 'POST', path, withKey({ json, ...options })),
    put: <T = AnyJson>(path: string, json?: unknown, options: CallOptions = {}) =>
      call<T>(baseUrl, 'PUT', path, withKey({ json, ...options })),
    delete: <T = AnyJson>(path: string, options: CallOptions = {}) =>
      call<T>(baseUrl, 'DELETE', path, withKey(options)),
    call: <T = AnyJson>(method: string, path: string, options: CallOptions = {}) =>
      call<T>(baseUrl, method, path, withKey(options)),
  };
}

export type Client = ReturnType<typeof client>;

/** Asserts an RFC 9457 problem response with the given status; returns its body. */
export function expectProblem(response: ApiResponse, status: number): Record<string, unknown> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = response.body as Record<string, unknown>;
  expect(body).toEqual(
    expect.objectContaining({ status, type: expect.stringMatching(/^urn:portal-bridge:problem:/) }),
  );
  expect(typeof body.title).toBe('string');
  return body;
}

/**
 * One HTTP/1.1 request over a bare socket with `Expect: 100-continue`, as curl sends large bodies:
 * the body goes out only after `100 Continue` and only if no final answer follows it at once. A
 * server that refuses a declared Content-Length (413) answers and closes without reading the body;
 * a client that is still writing then gets EPIPE/ECONNRESET and, on Linux, loses the answer (that is
 * what fetch and node:http report for a body well over the limit).
 */
export async function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs = 10_000,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let received = '';
  let onData: () => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.toString('latin1');
    onData();
  });
  socket.on('error', () => undefined); // a reset while sending; whatever arrived before it is parsed below
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  /** Resolves true once `test(received)` holds, false after `ms`. */
  const waitFor = (test: (text: string) => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(test(received)), ms);
      onData = () => {
        if (test(received)) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      onData();
    });
  const finalHead = /HTTP\/1\.1 [2-9]\d\d [^\r]*\r\n[\s\S]*?\r\n\r\n/;

  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const lines = [
    `${method} ${path} HTTP/1.1`,
    `host: 127.0.0.1:${port}`,
    'connection: close',
    'expect: 100-continue',
  ];
  for (const [name, value] of Object.entries({ 'content-length': String(body.length), ...headers })) {
    lines.push(`${name}: ${value}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  await waitFor((text) => text.startsWith('HTTP/1.1 100') || finalHead.test(text), 1000);
  // After 100 Continue, give a refusal that follows straight after it the chance to arrive.
  if (!(await waitFor((text) => finalHead.test(text), 200))) socket.end(body);
  else socket.end();

  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  await closed;
  clearTimeout(timer);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, '');
  const split = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  if (split < 0 || !status) throw new Error(`no HTTP answer; got ${JSON.stringify(text.slice(0, 200))}`);
  const head: Record<string, string> = {};
  for (const line of text.slice(0, split).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    head[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const raw = text.slice(split + 4);
  return {
    status: Number(status[1]),
    headers: head,
    body: head['transfer-encoding'] === 'chunked' ? dechunk(raw) : raw,
  };
}

function dechunk(raw: string): string {
  let out = '';
  let rest = raw;
  for (let guard = 0; guard < 10_000; guard++) {
    const eol = rest.indexOf('\r\n');
    const size = eol < 0 ? 0 : parseInt(rest.slice(0, eol), 16);
    if (!size) break;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
  return out;
}
