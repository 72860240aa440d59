import { app } from '@azure/functions';
import { STATE_KEY_PATTERN, STATE_KEY_RULE } from '../shared/domain/ids';
import { noContent } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { checkedParam } from '../shared/http/validation';
import { ServiceError } from '../shared/services/errors';

export const stateDelete = route({ roles: ['admin', 'service'] }, async ({ request, services }) => {
  const key = checkedParam(request.params.key, 'key', STATE_KEY_PATTERN, STATE_KEY_RULE);
  const removed = await services.state.delete(key, request.headers.get('if-match') ?? undefined);
  if (!removed) throw new ServiceError('not-found', `No state key ${key}.`);
  return noContent();
});

app.http('state-delete', {
  methods: ['DELETE'],
  route: 'state/{key}',
  authLevel: 'anonymous',
  handler: stateDelete,
});
