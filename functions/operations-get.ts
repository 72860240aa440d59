import { z } from 'zod';
import { ok } from '../shared/http/http-response';
import { operationIdParam } from '../shared/http/params';
import { route } from '../shared/http/route';
import { ServiceError } from '../shared/services/errors';

/** An operation's status and, once done, its result or error. */
export const operationsGet = route('operations-get', {
  methods: ['GET'],
  route: 'operations/{id}',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'operations' },
  params: z.object({ id: operationIdParam }),
  summary: "An async operation's status, result or error",
  tags: ['operations'],
  handler: async ({ params, services, principal }) => {
    // 404 for an operation the caller may not see (an end user sees only their own).
    const operation = await services.commands.getFor(principal, params.id);
    if (!operation) throw new ServiceError('not-found', `No operation ${params.id}.`);
    return ok(operation, { 'cache-control': 'no-store' });
  },
});
