import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';

/** Republishes events still unpublished after the grace period: the guarantee behind the change feed. */
export async function eventsSweep(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const { published, quarantined } = await services.propagator.sweep(
    services.config.events.sweepGraceSeconds * 1000,
  );
  if (published > 0)
    context.warn(`events-sweep: republished ${published} event(s) the change feed had not published`);
  if (quarantined > 0) context.warn(`events-sweep: quarantined ${quarantined} event(s) the bus refused`);
}

app.timer('events-sweep', { schedule: loadTriggerSettings().BRIDGE_SWEEP_SCHEDULE, handler: eventsSweep });
