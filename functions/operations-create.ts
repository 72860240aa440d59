import { accepted } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { commandSchema } from '../shared/http/schemas';

/** Queues a bridge operation as a command on bridge-commands; poll GET /api/operations/{id}. */
export const operationsCreate = route('operations-create', {
  methods: ['POST'],
  route: 'operations',
  access: { roles: ['admin', 'user', 'service', 'end-user'], scope: 'operations' },
  body: commandSchema,
  summary: 'Queue an operation (sync, publish, delete, analyses) to run asynchronously',
  tags: ['operations'],
  handler: async ({ body, services, principal }) => {
    // The async form of the AI analysis counts against the same AI rate limit as its route.
    if (body.command === 'comprehensive_analysis') await services.rateLimits.consume(principal, 'ai');
    const operation = await services.commands.enqueue(body, principal);
    return accepted(operation, { location: `/api/operations/${operation.id}` });
  },
});
