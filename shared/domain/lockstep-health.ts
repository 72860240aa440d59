import type { HealthBand } from './health-band';

export interface LockstepSignals {
  /** Age of the oldest committed but unpublished event, ms; undefined when none is pending. */
  oldestPendingAgeMs?: number;
  /** Users whose latest state has no published event although its grace period has passed. */
  inconsistentUsers: number;
  propagationP95Ms: number;
}

/**
 * Lockstep health: the seeds ask that an admin change be visible to the other portal within a
 * second. EXCELLENT: everything propagated within 1 s; GOOD: within 5 s; WARNING: within 30 s;
 * CRITICAL: a change older than 30 s has not left the bridge, or a user's state and events disagree.
 */
export function lockstepBand(signals: LockstepSignals): Exclude<HealthBand, 'NO_DATA'> {
  if (signals.inconsistentUsers > 0) return 'CRITICAL';
  const lag = Math.max(signals.oldestPendingAgeMs ?? 0, signals.propagationP95Ms);
  if (lag <= 1_000) return 'EXCELLENT';
  if (lag <= 5_000) return 'GOOD';
  if (lag <= 30_000) return 'WARNING';
  return 'CRITICAL';
}
