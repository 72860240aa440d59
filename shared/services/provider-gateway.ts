import type { AnalysisFailure } from '../domain/analysis/schemas';
import {
  ChatModelError,
  type ChatModel,
  type ChatRequest,
  type EmbeddingResponse,
} from '../ports/chat-model';
import { callLockedProvider } from './locked-provider';
import type { ProviderLockService } from './provider-lock-service';

/**
 * One call to "the AI provider" for operations other than the comprehensive analysis (coaching,
 * text analytics, generation, embeddings), under the same rules as that analysis (README "The
 * provider lock and failover"): one attempt at the provider holding the lock, its outcome counted;
 * a failure that makes the lock fail over is followed by one attempt at the new holder; otherwise
 * the caller gets no answer and the failure, and answers from its local method (marked degraded),
 * or refuses.
 *
 * `validate` checks the provider's JSON before anything is used; a throw there is an
 * `invalid-output` failure of that provider.
 */

export type GatewayOutcome<T> =
  | { kind: 'answer'; value: T; provider: string; model: string; failure?: AnalysisFailure }
  | {
      kind: 'none';
      /** Why no provider answered: none configured, the heuristic holds the lock, or a failure. */
      reason: 'not-configured' | 'no-provider' | 'failed' | 'unsupported';
      failure?: AnalysisFailure;
    };

export class InvalidProviderAnswer extends Error {}

export class ProviderGateway {
  constructor(
    private readonly lock: ProviderLockService,
    private readonly models: ReadonlyMap<string, ChatModel>,
  ) {}

  /** True when at least one AI provider is configured. */
  get configured(): boolean {
    return this.models.size > 0;
  }

  complete<T>(request: ChatRequest, validate: (json: unknown) => T): Promise<GatewayOutcome<T>> {
    return this.attempt(async (model) => {
      const answer = await model.complete(request);
      try {
        return { value: validate(answer.json), model: answer.model };
      } catch (error) {
        throw new ChatModelError(model.provider, 'invalid-output', (error as Error).message);
      }
    });
  }

  /** Embeddings from the lock holder, when it has an embeddings model. */
  embed(input: readonly string[]): Promise<GatewayOutcome<EmbeddingResponse>> {
    return this.attempt(async (model) => {
      if (!model.embed || model.embeddingModel === undefined) return undefined;
      const answer = await model.embed(input);
      return { value: answer, model: answer.model };
    });
  }

  private async attempt<T>(
    call: (model: ChatModel) => Promise<{ value: T; model: string } | undefined>,
  ): Promise<GatewayOutcome<T>> {
    if (!this.configured) return { kind: 'none', reason: 'not-configured' };
    const outcome = await callLockedProvider(this.lock, this.models, (model) => call(model));
    if (outcome.kind === 'answer') return outcome;
    const failure = outcome.failure ? { failure: outcome.failure } : {};
    if (outcome.kind === 'unsupported') return { kind: 'none', reason: 'unsupported', ...failure };
    return { kind: 'none', reason: outcome.failure ? 'failed' : 'no-provider', ...failure };
  }
}
