import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Lockstep monitor: change-feed lag, propagation latency, state/event consistency, health band. */
export const lockstepStatus = route({ roles: ['admin', 'user', 'service'] }, async ({ services }) =>
  ok(await services.lockstep.status(), { 'cache-control': 'no-store' }),
);

app.http('lockstep-status', {
  methods: ['GET'],
  route: 'lockstep/status',
  authLevel: 'anonymous',
  handler: lockstepStatus,
});
