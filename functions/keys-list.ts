import { app } from '@azure/functions';
import { ok } from '../shared/http/http-response';
import { route } from '../shared/http/route';

export const keysList = route({ roles: ['admin'] }, async ({ services }) =>
  ok({ keys: await services.apiKeys.list() }),
);

app.http('keys-list', { methods: ['GET'], route: 'keys', authLevel: 'anonymous', handler: keysList });
