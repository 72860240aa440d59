import type { HttpRequest, HttpRequestParams, HttpRequestUser } from '@azure/functions';
import type { IncomingHttpHeaders } from 'node:http';
import { LocalHeaders } from './local-headers';

/**
 * The request object the local host hands to handlers. It has the shape of @azure/functions'
 * HttpRequest, but builds the costly WHATWG Request (stream, blob, form data, clone) only when a
 * handler asks for those; method, url, headers, query, params and text/json/arrayBuffer are
 * served from the bytes already read. That keeps the host's own cost per request small.
 */
export class LocalHttpRequest implements HttpRequest {
  readonly params: HttpRequestParams;
  readonly headers: Headers;
  readonly user: HttpRequestUser | null = null;
  private consumed = false;
  private native?: Request;

  constructor(
    readonly method: string,
    private readonly parsedUrl: URL,
    headers: IncomingHttpHeaders | Record<string, string>,
    params: Record<string, string>,
    private readonly bytes: Buffer,
  ) {
    this.headers = new LocalHeaders(headers);
    this.params = params;
  }

  get url(): string {
    return this.parsedUrl.toString();
  }

  get query(): URLSearchParams {
    return this.parsedUrl.searchParams;
  }

  get bodyUsed(): boolean {
    return this.consumed || (this.native?.bodyUsed ?? false);
  }

  get body(): ReadableStream | null {
    return this.nativeRequest().body as ReadableStream | null;
  }

  private take(): Buffer {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.consumed = true;
    return this.bytes;
  }

  private nativeRequest(): Request {
    const hasBody = this.bytes.length > 0 && this.method !== 'GET' && this.method !== 'HEAD';
    this.native ??= new Request(this.url, {
      method: this.method,
      headers: this.headers,
      ...(hasBody ? { body: this.bytes } : {}),
    });
    return this.native;
  }

  readonly text = async (): Promise<string> => this.take().toString('utf8');
  readonly json = async (): Promise<unknown> => JSON.parse(this.take().toString('utf8'));
  readonly arrayBuffer = async (): Promise<ArrayBuffer> => {
    const bytes = this.take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  };
  readonly blob = (): Promise<Blob> => this.nativeRequest().blob();
  readonly formData = (): Promise<FormData> => this.nativeRequest().formData() as Promise<FormData>;
  readonly clone = (): HttpRequest => {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    return new LocalHttpRequest(
      this.method,
      new URL(this.url),
      Object.fromEntries(this.headers),
      { ...this.params },
      this.bytes,
    );
  };
}
