/**
 * Builds the ChatModel of each configured AI provider, once (shared/container.ts calls this).
 *
 * Every provider is reached through the same OpenAI-compatible adapter; what differs is its base URL
 * (AI_<NAME>_BASE_URL), key, model, and whether it enforces a JSON Schema in `response_format`.
 */
import { ConfigError, type AiConfig, type AiProviderName } from '../../config';
import type { ChatModel, StructuredOutputMode } from '../../ports/chat-model';
import { OpenAICompatibleChatModel } from './openai-compatible-chat-model';

/**
 * Structured-output mode per provider. json_schema where the provider's OpenAI-compatible endpoint
 * enforces a JSON Schema for every model; json_object (JSON mode, the schema is then given in the
 * prompt and enforced by validation only) where support depends on the model — Groq documents
 * json_schema for a few models only. A provider that still refuses json_schema is switched to
 * json_object at run time (see OpenAICompatibleChatModel).
 */
export const STRUCTURED_OUTPUT: Readonly<Record<AiProviderName, StructuredOutputMode>> = Object.freeze({
  openai: 'json_schema',
  'azure-openai': 'json_schema',
  gemini: 'json_schema',
  groq: 'json_object',
  cloudflare: 'json_schema',
  huggingface: 'json_schema',
});

/** Reads an API key from a secret store (Key Vault) by secret name. */
export type SecretReader = (secretName: string) => Promise<string>;

/** How long a key read from the secret store is reused before it is read again (picks up rotations). */
export const SECRET_CACHE_MS = 300_000;

export interface BuildOptions {
  /** Needed when a provider names AI_<NAME>_API_KEY_SECRET instead of a key. */
  readSecret?: SecretReader;
  secretCacheMs?: number;
  fetch?: typeof fetch;
}

/** One ChatModel per configured provider, keyed by provider name (only providers in the order). */
export function buildChatModels(ai: AiConfig, options: BuildOptions = {}): Map<string, ChatModel> {
  const models = new Map<string, ChatModel>();
  for (const p of ai.providers) {
    if (!ai.order.includes(p.name)) continue;
    let apiKey: string | (() => Promise<string>);
    if (p.apiKeySecret !== undefined) {
      if (!options.readSecret) {
        const setting = `AI_${p.name.toUpperCase().replace(/-/g, '_')}_API_KEY_SECRET`;
        throw new ConfigError([
          {
            setting,
            message:
              'needs a secret store, which this composition does not provide; set the key itself instead',
          },
        ]);
      }
      apiKey = cachedSecret(options.readSecret, p.apiKeySecret, options.secretCacheMs ?? SECRET_CACHE_MS);
    } else {
      apiKey = p.apiKey ?? '';
    }
    models.set(
      p.name,
      new OpenAICompatibleChatModel({
        provider: p.name,
        baseUrl: p.baseUrl,
        model: p.model,
        apiKey,
        timeoutMs: ai.timeoutMs,
        structuredOutput: STRUCTURED_OUTPUT[p.name],
        ...(p.embeddingModel !== undefined ? { embeddingModel: p.embeddingModel } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    );
  }
  return models;
}

/** A key read through `read` at most once per `ttlMs` (concurrent callers share one read; failures are not kept). */
function cachedSecret(read: SecretReader, name: string, ttlMs: number): () => Promise<string> {
  let value: { key: string; at: number } | undefined;
  let pending: Promise<string> | undefined;
  return async () => {
    if (value && Date.now() - value.at < ttlMs) return value.key;
    pending ??= read(name)
      .then((key) => {
        value = { key, at: Date.now() };
        return key;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
