import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';

/**
 * The lockstep monitor (seed 000): runs the lockstep probe on BRIDGE_LOCKSTEP_MONITOR_SCHEDULE
 * (every minute) and records the result, shown by GET /api/lockstep/status and the dashboard.
 * BRIDGE_LOCKSTEP_MONITOR_ENABLED=false turns it off (the timer then fires and does nothing).
 */
export async function lockstepMonitor(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  if (!services.config.monitors.lockstep.enabled) return;
  const run = await services.lockstep.runMonitor(services.instanceId);
  const line = `lockstep-monitor: probe ${run.ok ? 'ok' : 'FAILED'} (sync ${run.syncLatencyMs} ms, propagation ${run.propagationLatencyMs ?? '—'} ms), health ${run.health}`;
  if (run.ok) context.log(line);
  else context.warn(`${line}: ${run.detail ?? ''}`);
}

app.timer('lockstep-monitor', {
  schedule: loadTriggerSettings().BRIDGE_LOCKSTEP_MONITOR_SCHEDULE,
  handler: lockstepMonitor,
});
