/**
 * Rate-limit classes and the rules of the BRIDGE_RATE_LIMITS_* settings. A rule gives a class a
 * number of requests per window: `ai=100/h,write=120/m,read=600/m` (units s, m, h, d, with an
 * optional count: `500/10m`). A class without a rule is not limited; `none` limits nothing.
 */

/** The AI analysis (the seeds' 100/hour: it calls an AI provider), and every other read (GET) or write. */
export type RateClass = 'ai' | 'read' | 'write';
export const RATE_CLASSES: readonly RateClass[] = ['ai', 'read', 'write'];

export interface RateRule {
  /** Requests allowed per window. */
  points: number;
  durationSeconds: number;
}

export type RateRules = Readonly<Partial<Record<RateClass, RateRule>>>;

export class RateRulesError extends Error {
  override name = 'RateRulesError';
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const RULE = /^([a-z]+)=(\d{1,9})\/(\d{0,6})([smhd])$/;
const MAX_WINDOW_SECONDS = 7 * 86_400;

export const RATE_RULES_FORMAT =
  'expected none or class=count/window pairs separated by commas, e.g. ai=100/h,write=120/m (classes ai, read, write; windows s, m, h, d, optionally with a count such as 10m)';

export function parseRateRules(text: string): RateRules {
  const trimmed = text.trim();
  if (trimmed === 'none') return {};
  const rules: Partial<Record<RateClass, RateRule>> = {};
  for (const part of trimmed.split(',').map((p) => p.trim())) {
    const m = RULE.exec(part);
    if (!m) throw new RateRulesError(`"${part}": ${RATE_RULES_FORMAT}`);
    const [, name = '', count = '', multiple = '', unit = 's'] = m;
    if (!(RATE_CLASSES as readonly string[]).includes(name)) {
      throw new RateRulesError(`unknown class "${name}"; known: ${RATE_CLASSES.join(', ')}`);
    }
    const rateClass = name as RateClass;
    if (rules[rateClass]) throw new RateRulesError(`class ${rateClass} is given twice`);
    const points = Number(count);
    const durationSeconds = Number(multiple || '1') * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
    if (points < 1) throw new RateRulesError(`"${part}": the count must be at least 1`);
    if (durationSeconds < 1 || durationSeconds > MAX_WINDOW_SECONDS) {
      throw new RateRulesError(`"${part}": the window must be 1 s to 7 d`);
    }
    rules[rateClass] = { points, durationSeconds };
  }
  return rules;
}

/** `100/3600s`-style text of a rule, for the RateLimit-Policy header and documentation. */
export function describeRateRule(rule: RateRule): string {
  return `${rule.points};w=${rule.durationSeconds}`;
}
