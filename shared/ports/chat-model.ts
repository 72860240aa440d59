/**
 * ChatModel: one AI provider's chat-completion endpoint (issue 5). Adapters speak the OpenAI-compatible
 * protocol through the `openai` SDK; the service above validates what comes back and keeps the
 * provider lock.
 *
 * A call is exactly one attempt: adapters never retry (the SDK's own retries are off), so every
 * failure reaches the lock and is counted. A failure is always a ChatModelError naming its kind.
 */
import type { FailureKind } from '../domain/analysis/provider-lock';

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/** How a provider is asked for JSON: a JSON Schema it enforces, or plain JSON mode. */
export type StructuredOutputMode = 'json_schema' | 'json_object';

export interface ChatRequest {
  messages: ChatMessage[];
  /** The JSON Schema the answer must satisfy (sent as `response_format` where the provider supports it). */
  responseSchema: { name: string; schema: Record<string, unknown> };
  /** Upper bound on the answer's length. */
  maxTokens?: number;
}

export interface ChatResponse {
  /** The answer parsed as JSON, not yet validated against the schema. */
  json: unknown;
  /** The model that answered, as the provider reports it (the configured one when it does not). */
  model: string;
}

export interface ChatModel {
  /** Provider name, as in AI_PROVIDER_ORDER (`openai`, `gemini`, …). */
  readonly provider: string;
  /** Configured model (or deployment) name. */
  readonly model: string;
  readonly structuredOutput: StructuredOutputMode;
  /** One attempt; rejects with ChatModelError. */
  complete(request: ChatRequest): Promise<ChatResponse>;
  /** The embeddings model (AI_<NAME>_EMBEDDING_MODEL), when one is configured. */
  readonly embeddingModel?: string;
  /** One attempt at the embeddings endpoint (only when `embeddingModel` is set); rejects with ChatModelError. */
  embed?(input: readonly string[]): Promise<EmbeddingResponse>;
}

export interface EmbeddingResponse {
  /** One vector per input, in input order. */
  vectors: number[][];
  model: string;
}

export class ChatModelError extends Error {
  constructor(
    readonly provider: string,
    readonly kind: FailureKind,
    message: string,
    /** HTTP status, when the provider answered with one. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ChatModelError';
  }
}

export function isChatModelError(error: unknown): error is ChatModelError {
  return error instanceof ChatModelError;
}
