import { app } from '@azure/functions';
import { USER_ID_PATTERN, USER_ID_RULE } from '../shared/domain/ids';
import { ok } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { syncBodySchema } from '../shared/http/schemas';
import { checkedParam } from '../shared/http/validation';

/** sync_user_data: merges one portal's write into the user's profile under the admin-override rules. */
export const usersSync = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services, principal }) => {
    const started = performance.now();
    let userId: string;
    let body;
    try {
      userId = checkedParam(request.params.userId, 'userId', USER_ID_PATTERN, USER_ID_RULE);
      body = await readJsonBody(request, syncBodySchema, services.config.http.maxBodyBytes);
    } catch (error) {
      // A refused request still counts in the sync metrics, as a client rejection.
      services.syncMetrics.record('rejected', performance.now() - started);
      throw error;
    }
    const result = await services.sync.sync(userId, body, principal.role);
    return ok(result);
  },
);

app.http('users-sync', {
  methods: ['POST'],
  route: 'users/{userId}/sync',
  authLevel: 'anonymous',
  handler: usersSync,
});
