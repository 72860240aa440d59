/**
 * The AI provider health monitor (seed 003: "periodic health checks, 5-minute interval, automatic
 * failover on detection"): the providers-check timer calls checkAll(), which asks each configured
 * provider one tiny question through the ChatModel port and feeds the outcome to the provider lock
 * under its usual rules — failures count, trip and fail over; successes reset the counts; a
 * provider back from its cooldown takes the lock back from the heuristic.
 */
import { z } from 'zod';
import type { FailureKind, HealthCheckOutcome } from '../domain/analysis/provider-lock';
import { ChatModelError, type ChatModel, type ChatRequest } from '../ports/chat-model';
import type { Clock } from '../ports/clock';
import type { HealthCheckResult, ProviderLockService } from './provider-lock-service';

/** The cheap call: a few tokens in, a few out, JSON as every analysis call is. */
export const HEALTH_CHECK_REQUEST: ChatRequest = {
  messages: [
    { role: 'system', content: 'You are a health check. Answer with JSON only.' },
    { role: 'user', content: 'Reply with the JSON object {"ok": true}.' },
  ],
  responseSchema: {
    name: 'health_check',
    schema: {
      type: 'object',
      properties: { ok: { type: 'boolean' } },
      required: ['ok'],
      additionalProperties: false,
    },
  },
  maxTokens: 20,
};

const answerSchema = z.object({ ok: z.literal(true) });

export type ProviderCheck =
  | ({ provider: string; checked: true; outcome: HealthCheckOutcome } & HealthCheckResult)
  | { provider: string; checked: false; skipped: string };

export interface ProviderCheckRun {
  at: string;
  checks: ProviderCheck[];
}

export interface ProviderHealthServiceDeps {
  lock: ProviderLockService;
  models: ReadonlyMap<string, ChatModel>;
  clock: Clock;
}

export class ProviderHealthService {
  constructor(private readonly deps: ProviderHealthServiceDeps) {}

  /** Checks every configured provider once, in priority order; cooling-down providers are skipped. */
  async checkAll(): Promise<ProviderCheckRun> {
    const { lock, models, clock } = this.deps;
    const at = new Date(clock.now()).toISOString();
    const view = await lock.view(0);
    const checks: ProviderCheck[] = [];
    for (const provider of view.providers) {
      const model = models.get(provider.name);
      if (!model) continue; // the heuristic, and providers not configured
      if (provider.coolingDown) {
        // Under the lock rules nothing a call finds can lift a cooldown; it runs its course.
        checks.push({
          provider: provider.name,
          checked: false,
          skipped: `cooling down until ${provider.cooldownUntil ?? 'now'}`,
        });
        continue;
      }
      const outcome = await this.check(model);
      const result = await lock.healthChecked(provider.name, outcome);
      checks.push({ provider: provider.name, checked: true, outcome, ...result });
    }
    return { at, checks };
  }

  /** One cheap call; never throws: every failure is an outcome with its kind. */
  async check(model: ChatModel): Promise<HealthCheckOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    const failed = (kind: FailureKind, message: string): HealthCheckOutcome => ({
      ok: false,
      latencyMs: elapsed(),
      kind,
      message,
    });
    try {
      const answer = await model.complete(HEALTH_CHECK_REQUEST);
      if (!answerSchema.safeParse(answer.json).success) {
        return failed('invalid-output', 'the answer was not {"ok": true}');
      }
      return { ok: true, latencyMs: elapsed() };
    } catch (error) {
      if (error instanceof ChatModelError) return failed(error.kind, error.message);
      return failed('network', String(error));
    }
  }
}
