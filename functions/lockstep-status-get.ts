import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { lockstepStatusResponseSchema } from '../shared/http/response-schemas';

/** Lockstep monitor: change-feed lag, propagation latency, state/event consistency, health band. */
export const lockstepStatusGet = route('lockstep-status-get', {
  methods: ['GET'],
  route: 'lockstep/status',
  access: { roles: ['admin', 'user', 'service'], scope: 'monitoring' },
  summary: 'Lockstep monitor: change-feed lag, propagation latency, consistency, health band',
  tags: ['lockstep'],
  responses: { 200: lockstepStatusResponseSchema },
  handler: async ({ services }) => ok(await services.lockstep.status(), { 'cache-control': 'no-store' }),
});
