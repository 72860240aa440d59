import { HEURISTIC_PROVIDER } from '../domain/analysis/provider-lock';
import { MAX_FAILURE_MESSAGE, type AnalysisFailure } from '../domain/analysis/schemas';
import { ChatModelError, type ChatModel, type ChatRequest } from '../ports/chat-model';
import type { ProviderLockService } from './provider-lock-service';

/** How one call through the provider lock ended (see `callLockedProvider`). */
export type LockedCall<T> =
  | { kind: 'answer'; value: T; provider: string; model: string; failure?: AnalysisFailure }
  /** The provider tried cannot make this kind of call (e.g. no embeddings model). */
  | { kind: 'unsupported'; failure?: AnalysisFailure }
  /** No AI provider answered: the heuristic holds the lock, none is configured here, or they failed. */
  | { kind: 'none'; failure?: AnalysisFailure };

export function failureOf(provider: string, error: ChatModelError): AnalysisFailure {
  const message = error.message.slice(0, MAX_FAILURE_MESSAGE);
  return { provider, kind: error.kind, ...(message ? { message } : {}) };
}

/**
 * One call to the AI provider that holds the lock, with the failover rules every AI feature
 * shares: one attempt at the holder; a failure (a ChatModelError; `call` throws one with
 * `invalid-output` for an answer it cannot accept) is counted by the lock; if that failure made the
 * lock fail over to another AI provider, one attempt there; otherwise no answer, and the caller
 * answers in its own degraded way. A failover the lock made earlier is reported as the failure.
 * Every answer comes whole from one provider. `call` returns undefined when the model cannot make
 * this kind of call.
 */
export async function callLockedProvider<T>(
  lock: ProviderLockService,
  models: ReadonlyMap<string, ChatModel>,
  call: (model: ChatModel, provider: string) => Promise<{ value: T; model: string } | undefined>,
): Promise<LockedCall<T>> {
  const holder = await lock.active();
  let provider = holder.provider;
  let failure: AnalysisFailure | undefined = holder.failover
    ? {
        provider: holder.failover.from,
        kind: holder.failover.kind ?? 'server',
        message: holder.failover.reason ?? `failover from ${holder.failover.from}`,
      }
    : undefined;
  const withFailure = () => (failure ? { failure } : {});
  const tried = new Set<string>();
  while (provider !== HEURISTIC_PROVIDER && !tried.has(provider)) {
    tried.add(provider);
    const model = models.get(provider);
    if (model === undefined) break; // not configured on this instance; the lock moves on at the next active()
    try {
      const answer = await call(model, provider);
      if (answer === undefined) return { kind: 'unsupported', ...withFailure() };
      await lock.succeeded(provider);
      return { kind: 'answer', value: answer.value, provider, model: answer.model, ...withFailure() };
    } catch (error) {
      if (!(error instanceof ChatModelError)) throw error;
      failure = failureOf(provider, error);
      const outcome = await lock.failed(provider, error.kind, failure.message);
      if (!outcome.failedOver) break;
      provider = outcome.failedOver.to;
    }
  }
  return { kind: 'none', ...withFailure() };
}

/**
 * A chat completion through the provider lock (callLockedProvider); `check` validates the parsed
 * answer and throws (anything) when it is not acceptable, which counts as an `invalid-output`
 * failure of that provider.
 */
export type LockedAnswer<T> =
  | { ok: true; value: T; provider: string; model: string; failure?: AnalysisFailure }
  | { ok: false; failure?: AnalysisFailure };

export async function askLockedProvider<T>(
  lock: ProviderLockService,
  models: ReadonlyMap<string, ChatModel>,
  request: ChatRequest,
  check: (json: unknown) => T,
): Promise<LockedAnswer<T>> {
  const outcome = await callLockedProvider(lock, models, async (model, provider) => {
    const answer = await model.complete(request);
    try {
      return { value: check(answer.json), model: answer.model };
    } catch (error) {
      throw new ChatModelError(provider, 'invalid-output', (error as Error).message);
    }
  });
  if (outcome.kind === 'answer') {
    const { kind: _kind, ...rest } = outcome;
    return { ok: true, ...rest };
  }
  return { ok: false, ...(outcome.failure ? { failure: outcome.failure } : {}) };
}
