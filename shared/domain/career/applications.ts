/**
 * The job-application state machine (pure):
 *
 *     applied → screening → interview → offer
 *        ↘          ↘           ↘        (any of applied, screening, interview) → rejected
 *     applied, screening, interview, offer → withdrawn
 *
 * `rejected` and `withdrawn` are final; `offer` can only be withdrawn (the candidate declines).
 * Admins (the employer side, through the admin portal) move an application along or reject it;
 * the candidate (or a portal acting for them) may only withdraw.
 */

export const APPLICATION_STATUSES = [
  'applied',
  'screening',
  'interview',
  'offer',
  'rejected',
  'withdrawn',
] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

export const TRANSITIONS: Readonly<Record<ApplicationStatus, readonly ApplicationStatus[]>> = Object.freeze({
  applied: ['screening', 'rejected', 'withdrawn'],
  screening: ['interview', 'rejected', 'withdrawn'],
  interview: ['offer', 'rejected', 'withdrawn'],
  offer: ['withdrawn'],
  rejected: [],
  withdrawn: [],
});

export type TransitionCheck =
  | { ok: true }
  | {
      ok: false;
      reason: 'invalid-transition' | 'not-allowed';
      message: string;
      allowed: readonly ApplicationStatus[];
    };

/** May an actor (`admin`, or `candidate` for anyone else) move an application from `from` to `to`? */
export function checkTransition(
  from: ApplicationStatus,
  to: ApplicationStatus,
  actor: 'admin' | 'candidate',
): TransitionCheck {
  const allowed = TRANSITIONS[from];
  if (!allowed.includes(to)) {
    return {
      ok: false,
      reason: 'invalid-transition',
      message:
        allowed.length === 0
          ? `The application is ${from}, which is final.`
          : `An application that is ${from} can become ${allowed.join(', ')}, not ${to}.`,
      allowed,
    };
  }
  if (actor === 'candidate' && to !== 'withdrawn') {
    return {
      ok: false,
      reason: 'not-allowed',
      message: 'Only an admin changes the status of an application; the candidate may withdraw it.',
      allowed: allowed.filter((s) => s === 'withdrawn'),
    };
  }
  return { ok: true };
}
