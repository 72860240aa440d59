import { app } from '@azure/functions';
import { EVENT_TYPE_PATTERN } from '../shared/domain/cloud-event';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';
import { validationProblem } from '../shared/http/validation';

/** Replay: committed events after a cursor, in commit order, with the cursor to continue from. */
export const eventsList = route({ roles: ['admin', 'user', 'service'] }, async ({ request, services }) => {
  const q = request.query;
  const limitText = q.get('limit') ?? '100';
  const limit = Number(limitText);
  const types = q
    .get('types')
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const errors = [];
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 1000)
    errors.push({ path: 'limit', message: 'must be a whole number from 1 to 1000' });
  if (types?.some((t) => !EVENT_TYPE_PATTERN.test(t)))
    errors.push({ path: 'types', message: 'must be comma-separated event types' });
  if (errors.length > 0) throw validationProblem(errors);
  const page = await services.events.replay({
    after: q.get('after') ?? undefined,
    types,
    subject: q.get('subject') ?? undefined,
    limit,
  });
  return ok(page, { 'cache-control': 'no-store' });
});

app.http('events-list', { methods: ['GET'], route: 'events', authLevel: 'anonymous', handler: eventsList });
