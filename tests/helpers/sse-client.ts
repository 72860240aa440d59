/**
 * A small Server-Sent Events client over node:http for the e2e tests and the benchmarks: it parses
 * frames as they arrive (the event-stream format: `field: value` lines, a blank line ends a frame,
 * `:` starts a comment), can stop reading the socket (a stalled consumer), and reports each frame
 * to a callback with its arrival time.
 */
import * as http from 'node:http';

export interface SseFrame {
  /** The `event:` field; undefined for plain events ("message"). */
  event?: string;
  id?: string;
  data: string;
  retry?: number;
  /** A comment frame (`: heartbeat`). */
  comment?: string;
  /** performance.now() when the frame was complete. */
  at: number;
}

export interface SseConnectOptions {
  headers?: Record<string, string>;
  /** Called for each frame as it is parsed (before it is queued for `next`). */
  onFrame?: (frame: SseFrame) => void;
  /** Keep frames for `next()` (default true; the benchmarks count them in onFrame instead). */
  queue?: boolean;
  /** Socket receive buffer: small to make a stalled consumer stall the server quickly. */
  highWaterMark?: number;
}

export class SseClient {
  readonly frames: SseFrame[] = [];
  private waiters: (() => void)[] = [];
  private buffer = '';
  private current: Partial<SseFrame> & { dataLines: string[] } = { dataLines: [] };
  private ended = false;
  /** Text of a non-200 answer. */
  body = '';

  private constructor(
    readonly status: number,
    readonly headers: http.IncomingHttpHeaders,
    private readonly response: http.IncomingMessage,
    private readonly request: http.ClientRequest,
    private readonly options: SseConnectOptions,
  ) {}

  static connect(url: string, options: SseConnectOptions = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const request = http.get(url, {
        headers: { accept: 'text/event-stream', ...options.headers },
        agent: false,
      });
      request.once('error', reject);
      request.once('response', (response) => {
        const client = new SseClient(response.statusCode ?? 0, response.headers, response, request, options);
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => client.consume(chunk));
        response.once('end', () => client.finish());
        response.once('close', () => client.finish());
        response.once('error', () => client.finish());
        request.off('error', reject);
        request.on('error', () => client.finish());
        resolve(client);
      });
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The next frame (comments included), or an error after `timeoutMs` or when the stream ends. */
  async next(timeoutMs = 10_000): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.ended) throw new Error(`the stream ended (status ${this.status}) ${this.body.slice(0, 300)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The next frame that is not a comment. */
  async nextEvent(timeoutMs = 10_000): Promise<SseFrame> {
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (frame.comment === undefined) return frame;
    }
  }

  /** Waits for the server to end the stream. */
  async closed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('the stream did not end in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops reading from the socket (the server's writes back up), or reads again. */
  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  /** Drops the connection (a client going away). */
  close(): void {
    this.request.destroy();
    this.response.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.wakeAll();
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private consume(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const sepLength = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + sepLength);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      const { dataLines, ...rest } = this.current;
      this.current = { dataLines: [] };
      if (
        dataLines.length === 0 &&
        rest.comment === undefined &&
        rest.id === undefined &&
        rest.event === undefined
      ) {
        return;
      }
      const frame: SseFrame = { ...rest, data: dataLines.join('\n'), at: performance.now() };
      this.options.onFrame?.(frame);
      if (this.options.queue !== false) {
        this.frames.push(frame);
        this.wakeAll();
      }
      return;
    }
    if (line.startsWith(':')) {
      this.current.comment = line.slice(1).trimStart();
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.current.dataLines.push(value);
    else if (field === 'event') this.current.event = value;
    else if (field === 'id') this.current.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.current.retry = Number(value);
  }
}
