import { z } from 'zod';
import type { AnalysisFailure } from '../domain/analysis/schemas';
import type { ScoredPhrase } from '../domain/text/analytics';
import type { ChatRequest } from '../ports/chat-model';
import type { LanguageGuess, TextProcessor } from '../ports/text-processor';
import { ServiceError } from './errors';
import { onTextWorkers } from './text-workers';
import type { GatewayOutcome, ProviderGateway } from './provider-gateway';

/**
 * Text analytics (seed 001: analyze_text_sentiment, extract_key_phrases, detect_language,
 * generate_content, get_embeddings) through the provider lock when an AI provider is configured.
 * Without one — or when the provider fails — sentiment, key phrases and language come from local
 * libraries on the worker pool, `provider: "local"` with the method named (degraded when a
 * configured provider failed); embeddings and generation have no local method: 503.
 */

export const LOCAL_PROVIDER = 'local';
export const LOCAL_METHODS = {
  sentiment: {
    model: 'afinn-165',
    method: 'AFINN-165 word list (npm sentiment): the sign of the summed word scores',
  },
  keyPhrases: {
    model: 'rake',
    method:
      'RAKE: candidate phrases between stop words (npm keyword-extractor), scored by word degree / frequency',
  },
  language: { model: 'franc-min', method: 'franc-min trigram language detection (ISO 639-3)' },
} as const;

export interface Metadata {
  provider: string;
  model: string;
  method?: string;
  confidence?: number;
  degraded: boolean;
  failure?: AnalysisFailure;
}

export interface Answer<T> {
  result: T;
  metadata: Metadata;
}

const SYSTEM =
  'You are a text analytics service. Answer with one JSON object that matches the given JSON Schema and nothing else.';

function task(name: string, instruction: string, text: string, schema: z.ZodType): ChatRequest {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema) as Record<string, unknown>;
  return {
    messages: [
      { role: 'system', content: SYSTEM },
      {
        role: 'user',
        content: `${instruction}\n\nJSON Schema:\n${JSON.stringify(json)}\n\nText:\n"""\n${text}\n"""`,
      },
    ],
    responseSchema: { name, schema: json },
    maxTokens: 800,
  };
}

const sentimentWire = z.strictObject({
  label: z.enum(['positive', 'negative', 'neutral']),
  score: z.number().min(-1).max(1),
  confidence: z.number().min(0).max(1),
});
const keyPhrasesWire = z.strictObject({
  keyPhrases: z.array(z.string()),
  confidence: z.number().min(0).max(1),
});
const languageWire = z.strictObject({ language: z.string(), confidence: z.number().min(0).max(1) });
const generateWire = z.strictObject({ text: z.string() });

const LANGUAGE_CODE = /^(?:[a-z]{2,3})(?:-[A-Za-z0-9]{2,8})*$/;

export class TextAnalyticsService {
  constructor(private readonly deps: { gateway: ProviderGateway; text: TextProcessor }) {}

  async sentiment(text: string): Promise<Answer<{ label: string; score: number; details?: unknown }>> {
    const outcome = await this.deps.gateway.complete(
      task(
        'sentiment',
        'Classify the overall sentiment of the text. score: -1 (very negative) to 1 (very positive).',
        text,
        sentimentWire,
      ),
      (json) => sentimentWire.parse(json),
    );
    if (outcome.kind === 'answer') {
      const { confidence, ...result } = outcome.value;
      return { result, metadata: this.providerMetadata(outcome, confidence) };
    }
    const local = await this.local(() => this.deps.text.sentiment(text));
    // AFINN is an English word list: a text in another language with no English word it scores is
    // refused rather than called neutral (short English texts are sometimes mistaken for another
    // language, so a text with scored English words is answered).
    const scored = local.positiveWords.length + local.negativeWords.length;
    if (scored === 0 && local.language.language !== 'eng' && local.language.language !== 'und') {
      throw new ServiceError(
        'unprocessable',
        `Local sentiment (AFINN-165) knows English only; the text looks like ${local.language.language} (ISO 639-3). Configure an AI provider for other languages.`,
        [{ path: '/text', message: `language ${local.language.language}` }],
      );
    }
    return {
      result: {
        label: local.label,
        score: local.score,
        details: {
          afinnScore: local.afinnScore,
          tokens: local.tokens,
          positiveWords: local.positiveWords,
          negativeWords: local.negativeWords,
        },
      },
      metadata: this.localMetadata(outcome, LOCAL_METHODS.sentiment),
    };
  }

  async keyPhrases(
    text: string,
    max: number,
  ): Promise<Answer<{ keyPhrases: ScoredPhrase[] | { phrase: string }[]; language?: string }>> {
    const lower = text.toLowerCase();
    const outcome = await this.deps.gateway.complete(
      task(
        'key_phrases',
        `List at most ${max} key phrases of the text, most important first, each copied verbatim from the text.`,
        text,
        keyPhrasesWire,
      ),
      (json) => {
        const answer = keyPhrasesWire.parse(json);
        const invented = answer.keyPhrases.find((p) => !lower.includes(p.trim().toLowerCase()));
        if (invented !== undefined)
          throw new Error(`the key phrase "${invented.slice(0, 80)}" does not occur in the text`);
        return {
          ...answer,
          keyPhrases: [...new Set(answer.keyPhrases.map((p) => p.trim()).filter((p) => p !== ''))].slice(
            0,
            max,
          ),
        };
      },
    );
    if (outcome.kind === 'answer') {
      return {
        result: { keyPhrases: outcome.value.keyPhrases.map((phrase) => ({ phrase })) },
        metadata: this.providerMetadata(outcome, outcome.value.confidence),
      };
    }
    const local = await this.local(() => this.deps.text.keyPhrases(text, max));
    return {
      result: { keyPhrases: local.phrases, language: local.language.language },
      metadata: {
        ...this.localMetadata(outcome, LOCAL_METHODS.keyPhrases),
        method: `${LOCAL_METHODS.keyPhrases.method}; stop words: ${local.stopwords}`,
      },
    };
  }

  async language(
    text: string,
  ): Promise<Answer<{ language: string; alternatives?: LanguageGuess['alternatives']; margin?: number }>> {
    const outcome = await this.deps.gateway.complete(
      task(
        'language',
        'Detect the language of the text as an ISO 639-1 code (or ISO 639-3 where there is none).',
        text,
        languageWire,
      ),
      (json) => {
        const answer = languageWire.parse(json);
        if (!LANGUAGE_CODE.test(answer.language))
          throw new Error(`"${answer.language.slice(0, 20)}" is not a language code`);
        return answer;
      },
    );
    if (outcome.kind === 'answer') {
      return {
        result: { language: outcome.value.language },
        metadata: this.providerMetadata(outcome, outcome.value.confidence),
      };
    }
    const local = await this.local(() => this.deps.text.language(text));
    return {
      result: { language: local.language, margin: local.margin, alternatives: local.alternatives },
      metadata: this.localMetadata(outcome, LOCAL_METHODS.language),
    };
  }

  async embeddings(
    texts: readonly string[],
  ): Promise<Answer<{ embeddings: number[][]; dimensions: number }>> {
    const outcome = await this.deps.gateway.embed(texts);
    if (outcome.kind === 'answer') {
      return {
        result: { embeddings: outcome.value.vectors, dimensions: outcome.value.vectors[0]?.length ?? 0 },
        metadata: this.providerMetadata(outcome),
      };
    }
    throw this.noProvider(outcome, 'Embeddings', 'an embeddings model (AI_<NAME>_EMBEDDING_MODEL)');
  }

  async generate(
    prompt: string,
    options: { system?: string; maxTokens: number },
  ): Promise<Answer<{ text: string }>> {
    const outcome = await this.deps.gateway.complete(
      {
        messages: [
          {
            role: 'system',
            content: `${options.system ?? 'You write clear, factual text for a careers portal.'}\nAnswer with one JSON object {"text": "..."} and nothing else.`,
          },
          { role: 'user', content: prompt },
        ],
        responseSchema: {
          name: 'generated_text',
          schema: (({ $schema: _s, ...rest }) => rest)(
            z.toJSONSchema(generateWire) as Record<string, unknown>,
          ),
        },
        maxTokens: options.maxTokens,
      },
      (json) => {
        const answer = generateWire.parse(json);
        if (answer.text.trim() === '') throw new Error('the generated text is empty');
        return answer;
      },
    );
    if (outcome.kind === 'answer')
      return { result: { text: outcome.value.text }, metadata: this.providerMetadata(outcome) };
    throw this.noProvider(outcome, 'Generation', 'an AI provider');
  }

  // -------------------------------------------------------------------------------------------------

  private providerMetadata(
    outcome: Extract<GatewayOutcome<unknown>, { kind: 'answer' }>,
    confidence?: number,
  ): Metadata {
    return {
      provider: outcome.provider,
      model: outcome.model,
      ...(confidence !== undefined ? { confidence: Math.round(confidence * 1000) / 1000 } : {}),
      degraded: false,
      ...(outcome.failure ? { failure: outcome.failure } : {}),
    };
  }

  /** Local answers are degraded only when an AI provider is configured and did not answer. */
  private localMetadata(
    outcome: GatewayOutcome<unknown>,
    method: { model: string; method: string },
  ): Metadata {
    const failure = outcome.kind === 'none' ? outcome.failure : undefined;
    return {
      provider: LOCAL_PROVIDER,
      model: method.model,
      method: method.method,
      degraded: this.deps.gateway.configured,
      ...(failure ? { failure } : {}),
    };
  }

  private noProvider(outcome: GatewayOutcome<unknown>, what: string, needs: string): ServiceError {
    if (outcome.kind === 'answer') throw new Error('unreachable');
    const detail =
      outcome.reason === 'not-configured'
        ? `${what} needs ${needs}, and no AI provider is configured; there is no local method.`
        : outcome.reason === 'unsupported'
          ? `${what} needs ${needs}; the provider holding the lock has none.`
          : `${what} needs ${needs}; none answered${outcome.failure ? ` (${outcome.failure.provider}: ${outcome.failure.kind})` : ''}.`;
    // Nothing configured is how this deployment is, not a passing failure: 404 (as realtime
    // negotiate when realtime is off), never a 5xx. A provider that fails or lacks the model: 503.
    return new ServiceError(outcome.reason === 'not-configured' ? 'not-found' : 'unavailable', detail);
  }

  private local<T>(run: () => Promise<T>): Promise<T> {
    return onTextWorkers(run);
  }
}
