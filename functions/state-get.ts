import { app } from '@azure/functions';
import { STATE_KEY_PATTERN, STATE_KEY_RULE } from '../shared/domain/ids';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { checkedParam } from '../shared/http/validation';
import { ServiceError } from '../shared/services/errors';

export const stateGet = route({ roles: ['admin', 'user', 'service'] }, async ({ request, services }) => {
  const key = checkedParam(request.params.key, 'key', STATE_KEY_PATTERN, STATE_KEY_RULE);
  const entry = await services.state.get(key);
  if (!entry) throw new ServiceError('not-found', `No state key ${key}.`);
  const { etag, ...body } = entry;
  return ok(body, { etag });
});

app.http('state-get', { methods: ['GET'], route: 'state/{key}', authLevel: 'anonymous', handler: stateGet });
