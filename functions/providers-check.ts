import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';

/**
 * The AI provider health monitor (seed 003): on BRIDGE_PROVIDER_CHECK_SCHEDULE (every 5 minutes)
 * asks each configured provider a tiny question and feeds the outcome to the provider lock, which
 * trips, fails over and recovers under its usual rules and records it in its audit trail.
 * BRIDGE_PROVIDER_CHECK_ENABLED=false turns it off (the timer then fires and does nothing).
 */
export async function providersCheck(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  if (!services.config.monitors.providers.enabled) return;
  const run = await services.providerHealth.checkAll();
  for (const check of run.checks) {
    if (!check.checked) {
      context.log(`providers-check: ${check.provider} skipped: ${check.skipped}`);
      continue;
    }
    const { outcome } = check;
    const what = outcome.ok
      ? `ok in ${outcome.latencyMs} ms`
      : `failed (${outcome.kind}): ${outcome.message ?? ''}`;
    const after = [
      check.tripped ? 'tripped' : '',
      check.failedOver ? `lock failed over ${check.failedOver.from} → ${check.failedOver.to}` : '',
      check.failedBack ? `lock back to ${check.failedBack}` : '',
    ].filter(Boolean);
    const line = `providers-check: ${check.provider} ${what}${after.length ? `; ${after.join('; ')}` : ''}`;
    if (outcome.ok) context.log(line);
    else context.warn(line);
  }
}

app.timer('providers-check', {
  schedule: loadTriggerSettings().BRIDGE_PROVIDER_CHECK_SCHEDULE,
  handler: providersCheck,
});
