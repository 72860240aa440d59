import { json } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { lockstepProbeResponseSchema } from '../shared/http/response-schemas';

/** A synthetic admin sync of user "lockstep-probe", observed until the bus accepted its event. */
export const lockstepProbe = route('lockstep-probe', {
  methods: ['POST'],
  route: 'lockstep/probe',
  access: { roles: ['admin'], scope: 'monitoring' },
  summary: 'A synthetic sync observed until the bus accepted its event (504 after 10 s)',
  tags: ['lockstep'],
  responses: { 200: lockstepProbeResponseSchema, 504: lockstepProbeResponseSchema },
  handler: async ({ services }) => {
    const result = await services.lockstep.probe();
    return json(result.ok ? 200 : 504, result, { 'cache-control': 'no-store' });
  },
});
