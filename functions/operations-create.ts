import { accepted } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { commandSchema } from '../shared/http/schemas';

/** Queues a bridge operation as a command on bridge-commands; poll GET /api/operations/{id}. */
export const operationsCreate = route('operations-create', {
  methods: ['POST'],
  route: 'operations',
  access: { roles: ['admin', 'user', 'service'] },
  body: commandSchema,
  summary: 'Queue an operation (sync, publish, delete, analyses) to run asynchronously',
  tags: ['operations'],
  handler: async ({ body, services, principal }) => {
    const operation = await services.commands.enqueue(body, principal);
    return accepted(operation, { location: `/api/operations/${operation.id}` });
  },
});
