import { app, type InvocationContext, type Timer } from '@azure/functions';
import { loadTriggerSettings } from '../shared/config';
import { getServices } from '../shared/container';

/**
 * Restarts admin jobs nobody is working on (batches, exports, imports untouched for
 * BRIDGE_ADMIN_JOB_STALL_SECONDS and not leased): their message was lost with a crash, or the queue
 * was down when they were created. Runs on the events sweeper's schedule.
 */
export async function jobsSweep(_timer: Timer, context: InvocationContext): Promise<void> {
  const { restarted } = await getServices().admin.operations.sweep();
  if (restarted.length > 0) context.log(`jobs-sweep: restarted ${restarted.join(', ')}`);
}

app.timer('jobs-sweep', {
  schedule: loadTriggerSettings().BRIDGE_SWEEP_SCHEDULE,
  handler: jobsSweep,
});
