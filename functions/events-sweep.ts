import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';

/** Republishes events still unpublished after the grace period: the guarantee behind the change feed. */
export async function eventsSweep(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const scan = await services.events.scanPending(services.propagator, {
    olderThanMs: services.config.events.sweepGraceSeconds * 1000,
    advanceCheckpoint: true,
  });
  if (scan.pending.length === 0) return;
  const { published } = await services.propagator.propagate(scan.pending, { attempts: 3 });
  context.warn(`events-sweep: republished ${published} event(s) the change feed had not published`);
}

app.timer('events-sweep', { schedule: loadTriggerSettings().BRIDGE_SWEEP_SCHEDULE, handler: eventsSweep });
