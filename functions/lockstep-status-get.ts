import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** Lockstep monitor: change-feed lag, propagation latency, state/event consistency, health band. */
export const lockstepStatusGet = route('lockstep-status-get', {
  methods: ['GET'],
  route: 'lockstep/status',
  access: { roles: ['admin', 'user', 'service'] },
  summary: 'Lockstep monitor: change-feed lag, propagation latency, consistency, health band',
  tags: ['lockstep'],
  handler: async ({ services }) => ok(await services.lockstep.status(), { 'cache-control': 'no-store' }),
});
