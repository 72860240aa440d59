import { app } from '@azure/functions';
import { USER_ID_PATTERN, USER_ID_RULE } from '../shared/domain/ids';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { checkedParam } from '../shared/http/validation';
import { ServiceError } from '../shared/services/errors';

export const usersGet = route({ roles: ['admin', 'user', 'service'] }, async ({ request, services }) => {
  const userId = checkedParam(request.params.userId, 'userId', USER_ID_PATTERN, USER_ID_RULE);
  const profile = await services.sync.get(userId);
  if (!profile) throw new ServiceError('not-found', `No user ${userId}.`);
  const { etag, ...body } = profile;
  return ok(body, { etag });
});

app.http('users-get', {
  methods: ['GET'],
  route: 'users/{userId}',
  authLevel: 'anonymous',
  handler: usersGet,
});
