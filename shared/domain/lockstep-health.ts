import type { HealthBand } from './health-band';

export interface LockstepSignals {
  /** Age of the oldest committed but unpublished event, ms; undefined when none is pending. */
  oldestPendingAgeMs?: number;
  /** Users whose latest state has no published event although its grace period has passed. */
  inconsistentUsers: number;
  propagationP95Ms: number;
  /** Events set aside because the bus or a consumer refused them (see the event quarantine). */
  quarantinedEvents?: number;
}

/**
 * Lockstep health: the seeds ask that an admin change be visible to the other portal within a
 * second. EXCELLENT: everything propagated within 1 s; GOOD: within 5 s; WARNING: within 30 s;
 * CRITICAL: a change older than 30 s has not left the bridge, or a user's state and events disagree.
 * A quarantined event (one the bus or a consumer refused) holds the band at WARNING at best until an
 * admin redelivers or dismisses it: some change has not reached the other portal.
 */
export function lockstepBand(signals: LockstepSignals): Exclude<HealthBand, 'NO_DATA'> {
  if (signals.inconsistentUsers > 0) return 'CRITICAL';
  const lag = Math.max(signals.oldestPendingAgeMs ?? 0, signals.propagationP95Ms);
  const band = lag <= 1_000 ? 'EXCELLENT' : lag <= 5_000 ? 'GOOD' : lag <= 30_000 ? 'WARNING' : 'CRITICAL';
  if ((signals.quarantinedEvents ?? 0) > 0 && (band === 'EXCELLENT' || band === 'GOOD')) return 'WARNING';
  return band;
}
