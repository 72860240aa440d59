import { HEURISTIC_PROVIDER } from '../domain/analysis/provider-lock';
import { MAX_FAILURE_MESSAGE, type AnalysisFailure } from '../domain/analysis/schemas';
import { ChatModelError, type ChatModel, type ChatRequest } from '../ports/chat-model';
import type { ProviderLockService } from './provider-lock-service';

/**
 * One request to the AI provider that holds the lock, with the failover rules of the analyses
 * (analysis-service.ts): one attempt at the holder; a failure is counted by the lock; if that
 * failure made the lock fail over to another AI provider, one attempt there; otherwise no answer,
 * and the caller answers in its own degraded way. `check` validates a parsed answer and throws
 * (anything) when it is not acceptable, which counts as an `invalid-output` failure. Every answer
 * comes whole from one provider.
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
  const holder = await lock.active();
  let provider = holder.provider;
  let failure: AnalysisFailure | undefined = holder.failover
    ? {
        provider: holder.failover.from,
        kind: holder.failover.kind ?? 'server',
        message: holder.failover.reason ?? `failover from ${holder.failover.from}`,
      }
    : undefined;
  const tried = new Set<string>();
  while (provider !== HEURISTIC_PROVIDER && !tried.has(provider)) {
    tried.add(provider);
    const model = models.get(provider);
    if (model === undefined) break; // not configured on this instance
    try {
      const answer = await model.complete(request);
      let value: T;
      try {
        value = check(answer.json);
      } catch (error) {
        throw new ChatModelError(provider, 'invalid-output', (error as Error).message);
      }
      await lock.succeeded(provider);
      return { ok: true, value, provider, model: answer.model, ...(failure ? { failure } : {}) };
    } catch (error) {
      if (!(error instanceof ChatModelError)) throw error;
      const message = error.message.slice(0, MAX_FAILURE_MESSAGE);
      failure = { provider, kind: error.kind, ...(message ? { message } : {}) };
      const outcome = await lock.failed(provider, error.kind, failure.message);
      if (!outcome.failedOver) break;
      provider = outcome.failedOver.to;
    }
  }
  return { ok: false, ...(failure ? { failure } : {}) };
}
