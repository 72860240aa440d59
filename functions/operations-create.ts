import { app } from '@azure/functions';
import { accepted } from '../shared/http/http-response';
import { readJsonBody } from '../shared/http/request-body';
import { route } from '../shared/http/route';
import { commandSchema } from '../shared/http/schemas';

/** Queues a bridge operation as a command on bridge-commands; poll GET /api/operations/{id}. */
export const operationsCreate = route(
  { roles: ['admin', 'user', 'service'] },
  async ({ request, services, principal }) => {
    const command = await readJsonBody(request, commandSchema, services.config.http.maxBodyBytes);
    const operation = await services.commands.enqueue(command, principal);
    return accepted(operation, { location: `/api/operations/${operation.id}` });
  },
);

app.http('operations-create', {
  methods: ['POST'],
  route: 'operations',
  authLevel: 'anonymous',
  handler: operationsCreate,
});
