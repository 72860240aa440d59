import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { describeRateRule, type RateClass, type RateRule, type RateRules } from '../domain/rate-limit-rules';
import type { Clock } from '../ports/clock';
import type { DocumentCollection } from '../ports/document-store';
import { DocumentRateLimiter } from './document-rate-limiter';
import { principalKey, type Principal } from './principal';

/**
 * Rate limits per principal (key id, token subject or end-user id) and class (`ai`, `read`,
 * `write`), with rate-limiter-flexible: each principal gets `points` requests per window of its
 * class (a window starts with the principal's first request in it and refills at its end). End
 * users and keys (with app-role tokens) have their own rules (BRIDGE_RATE_LIMITS_END_USER,
 * BRIDGE_RATE_LIMITS_KEY); a class without a rule is not limited for them.
 *
 * Across instances: the `ai` class is counted in the document store, shared by every instance (the
 * limit holds across any number of instances; an AI call already costs a provider round trip and
 * writes an event, so one more conditional write is noise). `read` and `write` are counted in each
 * instance's memory, so no request pays a store write for them: across N instances a principal
 * gets at most N × the limit.
 */

/** The classes counted in the store (shared by every instance); the others are per instance. */
export const SHARED_CLASSES: ReadonlySet<RateClass> = new Set(['ai']);

/** Over the limit: a 429 with these headers. */
export class RateLimitExceededError extends Error {
  override name = 'RateLimitExceededError';
  constructor(
    readonly rateClass: RateClass,
    readonly rule: RateRule,
    readonly retryAfterSeconds: number,
    readonly headers: Record<string, string>,
  ) {
    super(
      `Rate limit of the ${rateClass} class reached: ${rule.points} requests per ${rule.durationSeconds} s. Retry in ${retryAfterSeconds} s.`,
    );
  }
}

export interface RateLimitServiceDeps {
  store: DocumentCollection;
  clock: Clock;
  rules: { endUser: RateRules; key: RateRules };
}

type Audience = 'endUser' | 'key';

export class RateLimitService {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly deps: RateLimitServiceDeps) {}

  /** The rule that applies to this principal and class, if any. */
  ruleFor(principal: Principal, rateClass: RateClass): RateRule | undefined {
    return this.deps.rules[audienceOf(principal)][rateClass];
  }

  /**
   * Counts one request. Resolves with the RateLimit-* headers to send (none when the class is
   * not limited for this principal); throws RateLimitExceededError over the limit.
   */
  async consume(principal: Principal, rateClass: RateClass): Promise<Record<string, string>> {
    const audience = audienceOf(principal);
    const rule = this.deps.rules[audience][rateClass];
    if (!rule) return {};
    const limiter = this.limiterFor(audience, rateClass, rule);
    try {
      const res = await limiter.consume(principalKey(principal));
      return headersOf(rule, res);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new RateLimitExceededError(rateClass, rule, retryAfterSeconds, {
        ...headersOf(rule, rejection),
        'retry-after': String(retryAfterSeconds),
      });
    }
  }

  private limiterFor(audience: Audience, rateClass: RateClass, rule: RateRule): RateLimiterAbstract {
    const name = `${audience}-${rateClass}`;
    let limiter = this.limiters.get(name);
    if (!limiter) {
      const memory = new RateLimiterMemory({
        points: rule.points,
        duration: rule.durationSeconds,
        keyPrefix: name,
      });
      limiter = SHARED_CLASSES.has(rateClass)
        ? new DocumentRateLimiter({
            store: this.deps.store,
            clock: this.deps.clock,
            points: rule.points,
            durationSeconds: rule.durationSeconds,
            keyPrefix: name,
            // If the store fails, this instance's own count decides.
            insuranceLimiter: memory,
          })
        : memory;
      this.limiters.set(name, limiter);
    }
    return limiter;
  }
}

function audienceOf(principal: Principal): Audience {
  return principal.kind === 'end-user' ? 'endUser' : 'key';
}

/** RateLimit-* headers (IETF httpapi draft): the limit, what is left, seconds until the window ends. */
function headersOf(rule: RateRule, res: RateLimiterRes): Record<string, string> {
  const resetSeconds = res.msBeforeNext < 0 ? rule.durationSeconds : Math.ceil(res.msBeforeNext / 1000);
  return {
    'ratelimit-limit': String(rule.points),
    'ratelimit-remaining': String(Math.max(0, res.remainingPoints)),
    'ratelimit-reset': String(resetSeconds),
    'ratelimit-policy': describeRateRule(rule),
  };
}
