import { app } from '@azure/functions';
import { USER_ID_PATTERN, USER_ID_RULE } from '../shared/domain/ids';
import { noContent } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { checkedParam } from '../shared/http/validation';
import { ServiceError } from '../shared/services/errors';

export const usersDelete = route({ roles: ['admin'] }, async ({ request, services, principal }) => {
  const userId = checkedParam(request.params.userId, 'userId', USER_ID_PATTERN, USER_ID_RULE);
  if (!(await services.sync.delete(userId, principal.role)))
    throw new ServiceError('not-found', `No user ${userId}.`);
  return noContent();
});

app.http('users-delete', {
  methods: ['DELETE'],
  route: 'users/{userId}',
  authLevel: 'anonymous',
  handler: usersDelete,
});
