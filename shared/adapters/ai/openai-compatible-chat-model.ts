/**
 * ChatModel over any OpenAI-compatible chat-completions endpoint, through the `openai` SDK.
 *
 * - Exactly one HTTP request per call: `maxRetries: 0`, so every failure reaches the provider lock.
 * - `timeout` is the SDK's per-request timeout (AI_TIMEOUT_MS).
 * - Structured outputs: `response_format: { type: 'json_schema', … }` where the provider enforces a
 *   JSON Schema, `{ type: 'json_object' }` (JSON mode) where it does not. A provider that refuses
 *   json_schema with a 400 naming response_format/json_schema is switched to json_object for later
 *   calls; the refused call still counts as a failure (nothing is retried behind the lock's back).
 * - Errors are classified into the lock's failure kinds (see classify()).
 */
import type OpenAI from 'openai';
import type { FailureKind } from '../../domain/analysis/provider-lock';
import {
  ChatModelError,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type StructuredOutputMode,
} from '../../ports/chat-model';

/** Longest provider error message kept (it ends up in the lock's audit and in result metadata). */
const MAX_MESSAGE = 500;
/** Default answer budget: a comprehensive analysis is a few hundred tokens of JSON. */
const DEFAULT_MAX_TOKENS = 2000;

/**
 * The SDK, loaded when the first model is built: a bridge without AI providers (the default) never
 * pays its resident memory.
 */
function openai(): typeof OpenAI {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('openai') as { default: typeof OpenAI }).default;
}

export interface OpenAICompatibleOptions {
  provider: string;
  baseUrl: string;
  model: string;
  /** The key, or a function that fetches it (e.g. from Key Vault) before each request. */
  apiKey: string | (() => Promise<string>);
  timeoutMs: number;
  structuredOutput: StructuredOutputMode;
  /** Custom fetch (tests); the SDK's default otherwise. */
  fetch?: typeof fetch;
}

export class OpenAICompatibleChatModel implements ChatModel {
  readonly provider: string;
  readonly model: string;
  private mode: StructuredOutputMode;
  private readonly client: OpenAI;
  private readonly resolveKey: (() => Promise<string>) | undefined;
  private readonly timeoutMs: number;
  private readonly staticKey: string | undefined;

  constructor(options: OpenAICompatibleOptions) {
    this.provider = options.provider;
    this.model = options.model;
    this.mode = options.structuredOutput;
    this.resolveKey = typeof options.apiKey === 'function' ? options.apiKey : undefined;
    this.timeoutMs = options.timeoutMs;
    this.staticKey = typeof options.apiKey === 'string' ? options.apiKey : undefined;
    this.client = new (openai())({
      baseURL: options.baseUrl,
      // A key setter's failure is classified by complete() itself (it resolves the key first).
      apiKey: typeof options.apiKey === 'string' ? options.apiKey : 'resolved-per-request',
      maxRetries: 0,
      timeout: options.timeoutMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  get structuredOutput(): StructuredOutputMode {
    return this.mode;
  }

  async complete(request: ChatRequest): Promise<ChatResponse> {
    const mode = this.mode;
    let client = this.client;
    if (this.resolveKey) {
      let key: string;
      try {
        key = await this.resolveKey();
      } catch (error) {
        throw this.fail('auth', `could not read the API key: ${messageOf(error)}`);
      }
      client = this.client.withOptions({ apiKey: key });
    }
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    const started = Date.now();
    try {
      completion = await client.chat.completions.create({
        model: this.model,
        messages: request.messages,
        temperature: 0,
        max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
        response_format:
          mode === 'json_schema'
            ? {
                type: 'json_schema',
                json_schema: {
                  name: request.responseSchema.name,
                  schema: request.responseSchema.schema,
                  strict: true,
                },
              }
            : { type: 'json_object' },
      });
    } catch (error) {
      const failure = this.classify(error, Date.now() - started);
      if (
        mode === 'json_schema' &&
        failure.status === 400 &&
        /response_format|json_schema/i.test(failure.message)
      ) {
        this.mode = 'json_object';
      }
      throw failure;
    }
    return { json: this.parseContent(completion), model: completion.model || this.model };
  }

  private parseContent(completion: OpenAI.Chat.Completions.ChatCompletion): unknown {
    // A body that is not a chat completion (an HTML error page with status 200, …).
    if (typeof completion !== 'object' || completion === null || !Array.isArray(completion.choices)) {
      throw this.fail('invalid-output', 'the answer is not a chat completion');
    }
    const choice = completion.choices[0];
    if (choice === undefined) throw this.fail('invalid-output', 'the answer has no choices');
    if (choice.message?.refusal)
      throw this.fail('invalid-output', `the model refused: ${choice.message.refusal}`);
    if (choice.finish_reason === 'length')
      throw this.fail('invalid-output', 'the answer was cut off (max tokens)');
    if (choice.finish_reason === 'content_filter')
      throw this.fail('invalid-output', 'the answer was filtered');
    const content = choice.message?.content;
    if (typeof content !== 'string' || content.trim() === '')
      throw this.fail('invalid-output', 'the answer is empty');
    try {
      return JSON.parse(stripCodeFence(content)) as unknown;
    } catch (error) {
      throw this.fail('invalid-output', `the answer is not valid JSON: ${messageOf(error)}`);
    }
  }

  /**
   * SDK error → failure kind:
   * - 401, 403 → auth (fails over at once)
   * - 429, and 402 (payment required: quota/credits exhausted) → rate-limit
   * - 408 and the SDK's own timeout → timeout
   * - other HTTP errors (5xx, and 4xx such as 400 for an unknown model or parameter) → server
   * - no answer at all (DNS, connection refused or reset) → network
   * - an answer that is not JSON → invalid-output
   */
  private classify(error: unknown, elapsedMs: number): ChatModelError {
    if (error instanceof ChatModelError) return error;
    // The SDK recognises its own abort only when the runtime's AbortError is recognisable (not always
    // so across realms, e.g. under test runners); a connection error at the deadline is the timeout.
    const atDeadline = error instanceof openai().APIConnectionError && elapsedMs >= this.timeoutMs - 10;
    if (
      error instanceof openai().APIConnectionTimeoutError ||
      error instanceof openai().APIUserAbortError ||
      atDeadline
    ) {
      return this.fail('timeout', `no answer within ${this.timeoutMs} ms (AI_TIMEOUT_MS)`);
    }
    if (error instanceof openai().APIConnectionError)
      return this.fail('network', messageOf(error.cause ?? error));
    if (error instanceof openai().APIError && typeof error.status === 'number') {
      const status = error.status;
      const kind: FailureKind =
        status === 401 || status === 403
          ? 'auth'
          : status === 429 || status === 402
            ? 'rate-limit'
            : status === 408
              ? 'timeout'
              : 'server';
      return this.fail(kind, `HTTP ${status}: ${messageOf(error)}`, status);
    }
    if (error instanceof SyntaxError)
      return this.fail('invalid-output', `the answer is not valid JSON: ${error.message}`);
    return this.fail('network', messageOf(error));
  }

  private fail(kind: FailureKind, message: string, status?: number): ChatModelError {
    return new ChatModelError(this.provider, kind, truncate(redact(message, this.staticKey)), status);
  }
}

/** Some models wrap JSON in a Markdown code fence even in JSON mode; the fence (only) is removed. */
function stripCodeFence(content: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(content);
  return fenced?.[1] ?? content;
}

/**
 * Provider error messages end up in the lock's audit and in answers' metadata: key-like tokens
 * (OpenAI quotes a masked key in its 401 message) and the configured key itself are removed.
 */
export function redact(message: string, key?: string): string {
  let out = key && key.length >= 8 ? message.split(key).join('[redacted]') : message;
  out = out.replace(/\b(?:sk|gsk|hf|pk|rk)[-_][-_A-Za-z0-9*.]{6,}/g, '[redacted]');
  out = out.replace(/\bAIza[-_A-Za-z0-9]{10,}/g, '[redacted]');
  return out.replace(/(Bearer\s+)\S+/gi, '$1[redacted]');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}
