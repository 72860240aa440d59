import { app } from '@azure/functions';
import { json } from '../shared/http/http-response';
import { route } from '../shared/http/route';

/** A synthetic admin sync of user "lockstep-probe", observed until the bus accepted its event. */
export const lockstepProbe = route({ roles: ['admin'] }, async ({ services }) => {
  const result = await services.lockstep.probe();
  return json(result.ok ? 200 : 504, result, { 'cache-control': 'no-store' });
});

app.http('lockstep-probe', {
  methods: ['POST'],
  route: 'lockstep/probe',
  authLevel: 'anonymous',
  handler: lockstepProbe,
});
