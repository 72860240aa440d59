/**
 * An OpenAI-compatible chat-completions server on loopback, for tests: `POST /v1/chat/completions`
 * (provider "default") and `POST /<provider>/v1/chat/completions`, so one server can stand in for
 * several providers. Each provider has a mode — answer, or fail in a chosen way — and an optional
 * script of modes consumed one per request before the steady mode applies again.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeMode =
  | 'ok'
  /** 401 invalid_api_key */
  | 'auth'
  /** 403 */
  | 'forbidden'
  /** 429 rate_limit_exceeded */
  | 'rate-limit'
  /** 402 (credits exhausted) */
  | 'payment'
  /** 500 */
  | 'server'
  /** 503 */
  | 'unavailable'
  /** 400 naming response_format (a provider without json_schema support) */
  | 'no-json-schema'
  /** accepts the request and never answers */
  | 'timeout'
  /** 200 whose message content is not JSON */
  | 'malformed'
  /** 200 with JSON that violates the answer schema */
  | 'schema-violation'
  /** 200 with a schema-valid answer that claims a skill the profile does not have */
  | 'invented-skill';

export interface RecordedRequest {
  provider: string;
  authorization: string | undefined;
  body: {
    model?: string;
    messages?: { role: string; content: string }[];
    response_format?: { type: string; json_schema?: { name: string; schema: unknown; strict?: boolean } };
    [key: string]: unknown;
  };
}

export type Responder = (request: RecordedRequest) => Record<string, unknown>;

/** A valid answer derived from the request: the profile's skills that the role context lists, etc. */
export const defaultResponder: Responder = (request) => {
  const user = request.body.messages?.find((m) => m.role === 'user')?.content ?? '{}';
  const { candidate, roleContext } = JSON.parse(user) as {
    candidate: { skills: string[]; experienceYears: number; targetRole: string };
    roleContext: { typicalSkills: string[] } | null;
  };
  const typical = roleContext?.typicalSkills ?? [];
  const have = new Set(candidate.skills.map((s) => s.toLowerCase()));
  const matched = candidate.skills.filter((s) => typical.length === 0 || typical.includes(s.toLowerCase()));
  const missing = typical.filter((s) => !have.has(s));
  return {
    score: Math.min(100, 30 + matched.length * 10 + Math.min(candidate.experienceYears, 10) * 2),
    strengths: matched.length > 0 ? [`Has ${matched.join(', ')}.`] : [],
    gaps: missing.length > 0 ? [`Lacks ${missing.join(', ')}.`] : [],
    recommendations: [`Keep building towards ${candidate.targetRole}.`],
    matchedSkills: matched,
    missingSkills: missing,
    confidence: 0.8,
  };
};

interface ProviderState {
  mode: FakeMode;
  script: FakeMode[];
  expectedKey?: string;
}

export class FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  responder: Responder = defaultResponder;
  private readonly providers = new Map<string, ProviderState>();
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<http.ServerResponse>();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<FakeOpenAIServer> {
    const server = http.createServer();
    const fake = new FakeOpenAIServer(server);
    server.on('request', (req, res) => fake.handle(req, res));
    server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Base URL for the openai SDK: `http://127.0.0.1:<port>/<provider>/v1` (or `/v1` for "default"). */
  baseUrl(provider = 'default'): string {
    return provider === 'default'
      ? `http://127.0.0.1:${this.port}/v1`
      : `http://127.0.0.1:${this.port}/${provider}/v1`;
  }

  /** Steady mode of a provider (and clears its script). */
  setMode(provider: string, mode: FakeMode): void {
    const state = this.state(provider);
    state.mode = mode;
    state.script = [];
  }

  /** Modes for the next requests, one each, before the steady mode applies again. */
  script(provider: string, modes: FakeMode[]): void {
    this.state(provider).script.push(...modes);
  }

  /** Answer 401 unless the request carries `Bearer <key>`. */
  expectKey(provider: string, key: string): void {
    this.state(provider).expectedKey = key;
  }

  requestsTo(provider: string): RecordedRequest[] {
    return this.requests.filter((r) => r.provider === provider);
  }

  reset(): void {
    this.requests.length = 0;
    this.providers.clear();
    this.responder = defaultResponder;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private state(provider: string): ProviderState {
    let state = this.providers.get(provider);
    if (!state) {
      state = { mode: 'ok', script: [] };
      this.providers.set(provider, state);
    }
    return state;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const match = /^(?:\/([a-z0-9-]+))?\/v1\/chat\/completions$/.exec(req.url ?? '');
    if (!match || req.method !== 'POST') {
      this.send(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } });
      return;
    }
    const provider = match[1] ?? 'default';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: RecordedRequest['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
      } catch {
        this.send(res, 400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
        return;
      }
      const recorded: RecordedRequest = { provider, authorization: req.headers.authorization, body };
      this.requests.push(recorded);
      const state = this.state(provider);
      const mode = state.script.shift() ?? state.mode;
      if (state.expectedKey !== undefined && req.headers.authorization !== `Bearer ${state.expectedKey}`) {
        this.fail(res, 401, 'Incorrect API key provided.', 'invalid_api_key');
        return;
      }
      this.respond(res, mode, recorded);
    });
  }

  private respond(res: http.ServerResponse, mode: FakeMode, request: RecordedRequest): void {
    switch (mode) {
      case 'auth':
        return this.fail(res, 401, 'Incorrect API key provided.', 'invalid_api_key');
      case 'forbidden':
        return this.fail(res, 403, 'Project does not have access to this model.', 'model_not_found');
      case 'rate-limit':
        return this.fail(res, 429, 'Rate limit reached for requests.', 'rate_limit_exceeded');
      case 'payment':
        return this.fail(res, 402, 'You have exceeded your monthly included credits.', 'insufficient_quota');
      case 'server':
        return this.fail(res, 500, 'The server had an error while processing your request.', 'server_error');
      case 'unavailable':
        return this.fail(res, 503, 'The engine is currently overloaded.', 'overloaded');
      case 'no-json-schema':
        return this.fail(
          res,
          400,
          "response_format type 'json_schema' is not supported by this model",
          'invalid_request_error',
        );
      case 'timeout':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'malformed':
        return this.complete(res, request, 'Sure! Here is the analysis: {score: high');
      case 'schema-violation':
        return this.complete(
          res,
          request,
          JSON.stringify({ score: 'high', strengths: 'many', matchedSkills: [] }),
        );
      case 'invented-skill': {
        const answer = this.responder(request);
        return this.complete(
          res,
          request,
          JSON.stringify({
            ...answer,
            matchedSkills: [...(answer.matchedSkills as string[]), 'Quantum Knitting'],
          }),
        );
      }
      case 'ok':
        return this.complete(res, request, JSON.stringify(this.responder(request)));
    }
  }

  private complete(res: http.ServerResponse, request: RecordedRequest, content: string): void {
    this.send(res, 200, {
      id: `chatcmpl-${this.requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.body.model ?? 'unknown',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
    });
  }

  private fail(res: http.ServerResponse, status: number, message: string, code: string): void {
    this.send(res, status, {
      error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code },
    });
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
